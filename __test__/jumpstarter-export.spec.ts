import { describe, expect, it } from "vitest";
import { Bus, IsoTp, openExport, openExports } from "../src/index.js";
import { uniqueChannel } from "./helpers.js";

describe("Jumpstarter export blocks", () => {
  it("opens Can and IsoTpPython entries that talk to each other", async () => {
    const channel = uniqueChannel("js");
    const yaml = `
apiVersion: jumpstarter.dev/v1alpha1
kind: ExporterConfig
export:
  can:
    type: jumpstarter_driver_can.Can
    config: {channel: ${channel}, interface: virtual}
  tester:
    type: jumpstarter_driver_can.IsoTpPython
    config: {channel: ${channel}, interface: virtual, address: {rxid: 0x7e8, txid: 0x7e0}, params: {can_fd: true, tx_data_length: 64, blocking_send: true}}
  ecu:
    type: jumpstarter_driver_can.IsoTpPython
    config:
      channel: ${channel}
      interface: virtual
      address: {rxid: 0x7e0, txid: 0x7e8}
      params: {can_fd: true, rx_flowcontrol_timeout: 500}
`;
    const opened = await openExports(yaml);
    expect(opened.can).toBeInstanceOf(Bus);
    expect(opened.tester).toBeInstanceOf(IsoTp);
    const tester = opened.tester as IsoTp;
    const ecu = opened.ecu as IsoTp;
    const can = opened.can as Bus;
    await tester.send(new Uint8Array(100).fill(1));
    expect((await ecu.recv({ timeoutMs: 1000 }))!.length).toBe(100);
    expect(await can.recv({ timeoutMs: 100 })).toBeNull(); // a classic bus: the FD frames were counted, not delivered
    expect(can.stats().rxDroppedFdOnClassic).toBeGreaterThan(0);
    for (const o of Object.values(opened)) await o.close();
  });

  it("numbers as channels, IsoTpSocket as the kernel stack, and clear errors", async () => {
    const bus = (await openExport(
      { export: { c: { type: "jumpstarter_driver_can.Can", config: { channel: 0, interface: "virtual" } } } },
      "c",
    )) as Bus;
    expect(bus.channel).toBe("0");
    await bus.close();
    await expect(
      openExport(
        "export:\n  s:\n    type: jumpstarter_driver_can.IsoTpSocket\n    config: {channel: vcan0, address: {rxid: 1, txid: 2}}\n",
        "s",
      ),
    ).rejects.toMatchObject({
      code: "ERR_UNSUPPORTED",
    });
    await expect(openExport("export: {}", "x")).rejects.toThrow(/no export named 'x'/);
    await expect(openExport({ export: { p: { type: "x.Power" } } }, "p")).rejects.toThrow(/opens Can, IsoTpPython and IsoTpSocket/);
  });
});
