/** Sends `request` on the unix socket `socket` and resolves with everything read until the peer closes. */
export function unixAsk(socket: string, request: string): Promise<string> {
  const chunks: Uint8Array[] = [];
  return new Promise((resolve, reject) => {
    Bun.connect({
      unix: socket,
      socket: {
        open: (s) => void s.write(request),
        data: (_s, d) => void chunks.push(d),
        close: () => resolve(Buffer.concat(chunks).toString("utf8")),
        error: (_s, e) => reject(e),
        connectError: (_s, e) => reject(e),
      },
    }).catch(reject);
  });
}
