/**
 * The host kernel model: modules, sysfs, /dev, netdevs, PCI and SR-IOV, the vDPA bus and its netlink family.
 *
 * @module
 */

export * from "./kernel.ts";
export * from "./host_error.ts";
export * from "./host_event.ts";
export * from "./module_spec.ts";
export * from "./nic_model.ts";
export * from "./vdpa_netlink.ts";
