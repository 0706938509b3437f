/**
 * The argv that runs this same tartan again: the compiled single file is its own executable;
 * from source (`bun src/main.ts`) it is bun plus the entry script.
 */
export function selfArgv(): string[] {
  const fromSource = /\/bun[^/]*$/.test(process.execPath);
  return fromSource ? [process.execPath, Bun.main] : [process.execPath];
}
