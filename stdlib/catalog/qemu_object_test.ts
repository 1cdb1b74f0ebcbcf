import { deepEqual as assertEquals } from "node:assert/strict";
import { catalogProblems, findClass } from "./schema.ts";
import { MEMORY_BACKEND_TYPES, OBJECT_TYPES } from "./qemu_object.ts";

Deno.test("the object catalog is well-formed data", () => {
  assertEquals(catalogProblems(OBJECT_TYPES), []);
});

Deno.test("memory backends: only memfd and shm are shared by default", () => {
  const share = (t: string) => findClass(OBJECT_TYPES, t)?.props.share?.default;
  assertEquals(share("memory-backend-file"), false);
  assertEquals(share("memory-backend-ram"), false);
  assertEquals(share("memory-backend-memfd"), true);
  assertEquals(share("memory-backend-shm"), true);
});

Deno.test("memory backend defaults match backends/hostmem*.c", () => {
  const memfd = findClass(OBJECT_TYPES, "memory-backend-memfd");
  assertEquals(memfd?.props.hugetlb?.default, false);
  assertEquals(memfd?.props.hugetlbsize?.default, 0);
  assertEquals(memfd?.props.seal?.default, true);
  const file = findClass(OBJECT_TYPES, "memory-backend-file");
  assertEquals(file?.props["mem-path"]?.required, true);
  assertEquals(file?.props.prealloc?.default, false);
  assertEquals(file?.props.merge?.default, true);
  assertEquals(file?.props.policy?.default, "default");
  for (const t of MEMORY_BACKEND_TYPES) {
    assertEquals([t, findClass(OBJECT_TYPES, t)?.props.size?.required], [t, true]);
  }
});
