/**
 * Cheap facts about the namespace the process runs in, read without spawning anything: on the
 * CNI ADD path every spawn costs about a millisecond, and these are asked on every ADD.
 */
export interface HostFacts {
  linkExists(name: string): boolean;
  /** Whether an existing interface is a bridge (false when it is something else or absent). */
  isBridge(name: string): boolean;
  /** Whether a netns path is the namespace this process runs in (same device and inode). */
  isOwnNetns(path: string): boolean;
  /** MTU of the interface that holds the IPv4 default route, undefined when there is none. */
  defaultRouteMtu(): number | undefined;
  /** Identifies this boot and this network namespace: setup done under another key must be redone. */
  setupKey(): string;
  /** Whether a path names an existing file (a netns path). */
  pathExists(path: string): boolean;
}
