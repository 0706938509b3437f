import { AGENT_HEALTH_PATH } from "../model/agent-api.ts";

/** Whether the agent answers its health check on the socket (STATUS only; never on ADD). */
export async function pingAgent(socket: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const res = await fetch(`http://tartan-agent${AGENT_HEALTH_PATH}`, {
      unix: socket,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.text();
    return res.ok;
  } catch {
    return false;
  }
}
