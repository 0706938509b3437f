// The web view's static files, bundled into the executable as text (Bun's `with { type: "text" }`:
// `bun build --compile` embeds them; nothing is read from disk or fetched from a CDN at run time).
import appJs from "./assets/app.js" with { type: "text" };
import indexHtml from "./assets/index.html" with { type: "text" };
import styleCss from "./assets/style.css" with { type: "text" };

export const UI_ASSETS: Record<string, { body: string; type: string } | undefined> = {
  // bun-types declares *.html as an HTMLBundle (Bun.serve's routes); imported as text it is a string.
  "/": { body: indexHtml as unknown as string, type: "text/html; charset=utf-8" },
  "/app.js": { body: appJs, type: "text/javascript; charset=utf-8" },
  "/style.css": { body: styleCss, type: "text/css; charset=utf-8" },
};
