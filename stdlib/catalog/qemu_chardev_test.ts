import { deepEqual as assertEquals } from "node:assert/strict";
import { catalogProblems, findClass } from "./schema.ts";
import { CHARDEV_BACKENDS } from "./qemu_chardev.ts";

Deno.test("the chardev catalog is well-formed data", () => {
  assertEquals(catalogProblems(CHARDEV_BACKENDS), []);
});

Deno.test("socket defaults match chardev/char-socket.c: a client that would wait as a server", () => {
  const s = findClass(CHARDEV_BACKENDS, "socket");
  assertEquals(s?.props.server?.default, false);
  assertEquals(s?.props.wait?.default, true);
  assertEquals(s?.props.abstract?.default, false);
  assertEquals(s?.props.tight?.default, true);
  assertEquals(s?.props["reconnect-ms"]?.default, 0);
  assertEquals(s?.props.reconnect?.deprecated !== undefined, true);
  assertEquals(s?.style, "qemu-opts");
});

Deno.test("chardev aliases follow chardev_alias_table; other backends are ignored", () => {
  assertEquals(findClass(CHARDEV_BACKENDS, "tty")?.name, "serial");
  assertEquals(findClass(CHARDEV_BACKENDS, "parport")?.name, "parallel");
  assertEquals(findClass(CHARDEV_BACKENDS, "stdio")?.status, "ignored");
  assertEquals(findClass(CHARDEV_BACKENDS, "unix"), undefined);
});
