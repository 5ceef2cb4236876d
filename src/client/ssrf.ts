import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from "node:dns";
import { BlockList, isIP } from "node:net";
import type { Dispatcher } from "undici";

/** Loopback, private, link-local (cloud metadata), carrier-grade NAT and unspecified ranges. */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.168.0.0", 16],
] as const) {
  PRIVATE.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
] as const) {
  PRIVATE.addSubnet(net, prefix, "ipv6");
}

/** True for an IP address on a loopback, private, link-local or metadata network. */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return isPrivateAddress(mapped);
  const family = isIP(address);
  if (family === 4) return PRIVATE.check(address, "ipv4");
  if (family === 6) return PRIVATE.check(address, "ipv6");
  return false;
}

/** True when a URL's host is an IP literal on a private network, or a name that always means this machine. */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return host === "localhost" || host.endsWith(".localhost") || isPrivateAddress(host);
}

/** Raised (inside the connect step) when a download would connect to a private address. */
export class PrivateAddressError extends Error {
  override name = "PrivateAddressError";
  readonly code = "ERR_PRIVATE_ADDRESS";
  constructor(
    readonly host: string,
    readonly address: string,
  ) {
    super(`${host} resolves to ${address}, a local or private network address`);
  }
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

type Resolver = (
  hostname: string,
  options: LookupAllOptions,
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/**
 * A `lookup` for net.connect that fails when any address the name resolves to is private, so the check
 * is on the address actually connected to (no DNS rebinding between check and connect).
 */
export function publicLookupWith(resolve: Resolver = dnsLookup as unknown as Resolver) {
  return (hostname: string, options: object, callback: LookupCallback): void => {
    resolve(hostname, { ...(options as LookupAllOptions), all: true }, (err, addresses) => {
      if (err) {
        callback(err, []);
        return;
      }
      const bad = addresses.find((a) => isPrivateAddress(a.address));
      if (bad) {
        callback(new PrivateAddressError(hostname, bad.address), []);
        return;
      }
      if ((options as { all?: boolean }).all) callback(null, addresses);
      else callback(null, addresses[0]?.address ?? "", addresses[0]?.family ?? 4);
    });
  };
}

let publicAgent: Promise<Dispatcher> | undefined;

/** An undici dispatcher that only connects to public addresses (for URLs the backend hands out). */
export function publicOnlyDispatcher(): Promise<Dispatcher> {
  // undici is loaded on first use, so that starting the server stays fast
  publicAgent ??= import("undici").then(
    ({ Agent }) => new Agent({ connect: { lookup: publicLookupWith() as never } }),
  );
  return publicAgent;
}

/** The PrivateAddressError somewhere in an error's cause chain, if any. */
export function privateAddressCause(err: unknown): PrivateAddressError | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 6 && current; depth++) {
    if (current instanceof PrivateAddressError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
