// What an installed canwire must do, whether it was loaded with import or
// require: send and receive on the virtual bus, reject bad input with a
// CanError code, and have loaded its addon from the platform package.
"use strict";
const assert = require("node:assert/strict");
const path = require("node:path");

/**
 * @param {string} how "import" or "require", for the messages
 * @param {typeof import("canwire")} canwire the loaded module
 * @param {Record<string, unknown>} requireCache the CommonJS module cache
 */
async function checkInstalled(how, canwire, requireCache) {
  const { Bus, CanError, Message } = canwire;
  const channel = `package-check-${how}-${process.pid}`;
  const tx = await Bus.open({ interface: "virtual", channel });
  const rx = await Bus.open({ interface: "virtual", channel });
  try {
    await tx.send({ id: 0x123, data: [0xde, 0xad, 0xbe, 0xef] });
    const msg = await rx.recv({ timeoutMs: 2000 });
    assert.ok(msg, `${how}: no frame received on the virtual bus`);
    assert.equal(msg.id, 0x123);
    assert.deepEqual([...msg.data], [0xde, 0xad, 0xbe, 0xef]);
  } finally {
    await tx.close();
    await rx.close();
  }
  assert.throws(
    () => new Message({ id: 0x800, data: [] }),
    (error) => error instanceof CanError && error.code === "ERR_ID_OUT_OF_RANGE",
    `${how}: an 12-bit standard id must be a CanError ERR_ID_OUT_OF_RANGE`,
  );

  const addons = Object.keys(requireCache).filter((file) => file.endsWith(".node"));
  const expected = path.join("node_modules", "@canwire", "binding-linux-x64-gnu", "canwire.linux-x64-gnu.node");
  assert.deepEqual(
    addons.map((file) => file.endsWith(expected)),
    [true],
    `${how}: the addon must come from @canwire/binding-linux-x64-gnu, loaded: ${addons.join(", ") || "none"}`,
  );
  console.log(`${how}: virtual bus round trip, CanError code and addon path ok (${addons[0]})`);
}

module.exports = { checkInstalled };
