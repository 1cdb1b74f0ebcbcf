/**
 * Traffic: Ethernet/IPv4/UDP, ICMP and ARP frames with checksums, flow plans and sinks, line-rate math, pcap.
 *
 * @module
 */

export * from "./address.ts";
export * from "./arp.ts";
export * from "./checksum.ts";
export * from "./flow.ts";
export * from "./frame.ts";
export * from "./icmp.ts";
export * from "./line_rate.ts";
export * from "./pcap.ts";
export * from "./source.ts";
