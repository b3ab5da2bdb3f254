// Where webhooks may go. A job's webhookUrl is the tenant's to choose, and the worker POSTs to it from inside our
// network: unchecked, a tenant could have us call the cloud metadata endpoint, Redis or Postgres on loopback, or any
// host on the private network (server-side request forgery). Only public unicast addresses are allowed, checked
// twice: on the URL when the job is submitted (a clear 400 for an address written in it), and on every address a
// host name resolves to when the POST connects (so a name that resolves, or later re-resolves, to a private address
// is refused too). WEBHOOK_ALLOW_PRIVATE_ADDRESSES lifts the rule for receivers on a private network.
import { lookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import ipaddr from 'ipaddr.js';

/** The address as reached: ::ffff:10.0.0.1 reaches 10.0.0.1. */
function reached(address: string): ipaddr.IPv4 | ipaddr.IPv6 {
  const parsed = ipaddr.parse(address);
  return parsed instanceof ipaddr.IPv6 && parsed.isIPv4MappedAddress() ? parsed.toIPv4Address() : parsed;
}

/** The range a non-public address falls in ('loopback', 'private', 'linkLocal', ...), or null for a public one. */
export function nonPublicRange(address: string): string | null {
  const range = reached(address).range();
  return range === 'unicast' ? null : range;
}

/** Why the URL's host, as written, is not a public address; null when it is, or when only DNS can tell (a name). */
export function refusedHost(url: string): string | null {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return `${host} is a loopback name`;
  if (!ipaddr.isValid(host)) return null;
  const address = reached(host);
  const range = address.range();
  if (range === 'unicast') return null;
  // The URL parser writes [::ffff:10.0.0.1] as ::ffff:a00:1: name the IPv4 address reached too.
  return `${address.toString() === host ? host : `${host} (${address.toString()})`} is a ${range} address`;
}

/** A connection refused because its host resolved to a non-public address. */
export class WebhookTargetRefused extends Error {}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * dns.lookup for sockets (net.connect's `lookup` option): resolves every address of the host and refuses them all if
 * one is not public, so the address connected to is the address checked.
 */
export function publicOnlyLookup(hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback): void {
  lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    for (const { address } of addresses) {
      const range = nonPublicRange(address);
      if (range) return callback(new WebhookTargetRefused(`${hostname} resolves to ${address}, a ${range} address`), []);
    }
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0].address, addresses[0].family);
  });
}
