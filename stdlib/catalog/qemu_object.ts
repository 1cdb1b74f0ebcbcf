/**
 * QEMU user-creatable objects (`-object TYPE,id=…`).
 *
 * The memory backends decide whether guest RAM can be shared with a vhost-user back-end
 * (`share=on` is mandatory for vhost-user: the back-end maps the same pages) and whether it
 * sits on hugepages. Properties and defaults follow backends/hostmem.c (size, share, prealloc,
 * policy, merge, dump, reserve), backends/hostmem-file.c (mem-path, align, offset, pmem,
 * readonly, rom, discard-data), backends/hostmem-memfd.c (hugetlb, hugetlbsize, seal; `share`
 * defaults to on for memfd, as qemu-options.hx says) and backends/hostmem-shm.c (share on).
 * `-object` properties go through the keyval visitor (`style: "keyval"`).
 *
 * @example
 * ```ts
 * import { findClass } from "./schema.ts";
 * import { OBJECT_TYPES } from "./qemu_object.ts";
 * const memfd = findClass(OBJECT_TYPES, "memory-backend-memfd");
 * if (memfd?.props.share?.default !== true) throw new Error("memfd is shared by default");
 * ```
 *
 * @module
 */

import type { ClassCatalog, ClassSchema, PropSchema } from "./schema.ts";

/** Every user-creatable object has an id (qom/object_interfaces.c). */
export const OBJECT_COMMON_PROPS = {
  id: { type: "id", required: true, ioRelevant: true, desc: "name other options refer to" },
} as const satisfies Record<string, PropSchema>;

// backends/hostmem.c host_memory_backend_class_init.
const HOSTMEM_PROPS = {
  ...OBJECT_COMMON_PROPS,
  size: {
    type: "size",
    required: true,
    ioRelevant: true,
    desc: "size of the memory region",
  },
  share: {
    type: "bool",
    default: false,
    ioRelevant: true,
    desc: "map MAP_SHARED so another process (a vhost-user back-end) can map it",
  },
  prealloc: { type: "bool", default: false, ioRelevant: false, desc: "touch every page at start" },
  "prealloc-threads": {
    type: "uint",
    width: 32,
    default: 1,
    ioRelevant: false,
    desc: "threads used to preallocate",
  },
  "prealloc-context": { type: "string", ioRelevant: false, desc: "thread-context object" },
  merge: { type: "bool", default: true, ioRelevant: false, desc: "allow KSM merging" },
  dump: { type: "bool", default: true, ioRelevant: false, desc: "include in core dumps" },
  "host-nodes": { type: "list", ioRelevant: false, desc: "host NUMA nodes" },
  policy: {
    type: "enum",
    values: ["default", "preferred", "bind", "interleave"],
    default: "default",
    ioRelevant: false,
    desc: "host NUMA policy",
  },
  reserve: { type: "bool", default: true, ioRelevant: false, desc: "reserve swap space" },
  "x-use-canonical-path-for-ramblock-id": {
    type: "bool",
    default: true,
    ioRelevant: false,
    desc: "migration compat",
  },
} as const satisfies Record<string, PropSchema>;

// backends/hostmem-file.c file_backend_class_init.
const FILE_PROPS = {
  ...HOSTMEM_PROPS,
  "mem-path": {
    type: "path",
    required: true,
    ioRelevant: true,
    desc: "file or hugetlbfs directory backing the memory (/dev/hugepages)",
  },
  "discard-data": { type: "bool", default: false, ioRelevant: false, desc: "discard on exit" },
  align: { type: "size", default: 0, ioRelevant: false, desc: "mmap alignment" },
  offset: { type: "size", default: 0, ioRelevant: false, desc: "offset into the file" },
  pmem: { type: "bool", default: false, ioRelevant: false, desc: "persistent memory" },
  readonly: { type: "bool", default: false, ioRelevant: false, desc: "open read-only" },
  rom: { type: "onoffauto", default: "auto", ioRelevant: false, desc: "map as ROM" },
} as const satisfies Record<string, PropSchema>;

// backends/hostmem-memfd.c memfd_backend_class_init; instance_init sets share = true.
const MEMFD_PROPS = {
  ...HOSTMEM_PROPS,
  share: { ...HOSTMEM_PROPS.share, default: true },
  hugetlb: { type: "bool", default: false, ioRelevant: true, desc: "use hugetlbfs pages" },
  hugetlbsize: {
    type: "size",
    default: 0,
    defaultDesc: "0: the default huge page size",
    ioRelevant: true,
    desc: "huge page size (2M, 1G)",
  },
  seal: { type: "bool", default: true, ioRelevant: false, desc: "seal the memfd" },
} as const satisfies Record<string, PropSchema>;

// backends/hostmem-shm.c (QEMU 9.1): POSIX shm, always shared.
const SHM_PROPS = {
  ...HOSTMEM_PROPS,
  share: { ...HOSTMEM_PROPS.share, default: true },
} as const satisfies Record<string, PropSchema>;

// iothread.c iothread_class_init.
const IOTHREAD_PROPS = {
  ...OBJECT_COMMON_PROPS,
  "poll-max-ns": { type: "int", ioRelevant: false, desc: "adaptive polling limit" },
  "poll-grow": { type: "int", ioRelevant: false, desc: "polling growth factor" },
  "poll-shrink": { type: "int", ioRelevant: false, desc: "polling shrink divisor" },
  "aio-max-batch": { type: "int", ioRelevant: false, desc: "AIO batch limit" },
  "thread-pool-min": { type: "int", ioRelevant: false, desc: "worker pool minimum" },
  "thread-pool-max": { type: "int", ioRelevant: false, desc: "worker pool maximum" },
} as const satisfies Record<string, PropSchema>;

function memory(name: string, desc: string, props: Record<string, PropSchema>): ClassSchema {
  return { name, desc, status: "modelled", style: "keyval", props };
}

function ignored(name: string, desc: string, extra: Record<string, PropSchema> = {}): ClassSchema {
  return {
    name,
    desc,
    status: "ignored",
    style: "keyval",
    props: { ...OBJECT_COMMON_PROPS, ...extra },
    openProps: true,
  };
}

/** Object types by QOM name. */
export const OBJECT_TYPES: ClassCatalog = {
  kind: "object type",
  classes: {
    "memory-backend-file": memory(
      "memory-backend-file",
      "guest RAM from a file or hugetlbfs",
      FILE_PROPS,
    ),
    "memory-backend-memfd": memory(
      "memory-backend-memfd",
      "guest RAM from an anonymous memfd (shared by default)",
      MEMFD_PROPS,
    ),
    "memory-backend-ram": memory(
      "memory-backend-ram",
      "guest RAM from anonymous memory",
      HOSTMEM_PROPS,
    ),
    "memory-backend-shm": memory(
      "memory-backend-shm",
      "guest RAM from POSIX shared memory",
      SHM_PROPS,
    ),
    iothread: {
      name: "iothread",
      desc: "an event-loop thread devices can run in",
      status: "ignored",
      style: "keyval",
      props: IOTHREAD_PROPS,
    },
    "rng-random": ignored("rng-random", "entropy from a host device"),
    "rng-builtin": ignored("rng-builtin", "QEMU's entropy source"),
    "rng-egd": ignored("rng-egd", "entropy from an EGD chardev", {
      chardev: { type: "ref", refKind: "chardev", ioRelevant: false, desc: "EGD chardev" },
    }),
    secret: ignored("secret", "a secret value"),
    "tls-creds-x509": ignored("tls-creds-x509", "TLS credentials"),
    "tls-creds-psk": ignored("tls-creds-psk", "TLS pre-shared keys"),
    "filter-dump": ignored("filter-dump", "pcap dump of a netdev's traffic", {
      netdev: { type: "ref", refKind: "netdev", ioRelevant: false, desc: "netdev to dump" },
    }),
    "filter-buffer": ignored("filter-buffer", "delay a netdev's traffic", {
      netdev: { type: "ref", refKind: "netdev", ioRelevant: false, desc: "netdev to buffer" },
    }),
    "filter-mirror": ignored("filter-mirror", "mirror a netdev's traffic", {
      netdev: { type: "ref", refKind: "netdev", ioRelevant: false, desc: "netdev to mirror" },
    }),
    "throttle-group": ignored("throttle-group", "block I/O limits"),
    iommufd: ignored("iommufd", "an /dev/iommu context for vfio-pci"),
    "main-loop": ignored("main-loop", "main event loop tuning"),
    "thread-context": ignored("thread-context", "CPU affinity for helper threads"),
    "cryptodev-backend-builtin": ignored("cryptodev-backend-builtin", "crypto backend"),
    "sev-guest": ignored("sev-guest", "AMD SEV guest"),
  },
  aliases: {},
};

/** The memory backend types (the objects `memdev=`/`memory-backend=` may name). */
export const MEMORY_BACKEND_TYPES: readonly string[] = [
  "memory-backend-file",
  "memory-backend-memfd",
  "memory-backend-ram",
  "memory-backend-shm",
];
