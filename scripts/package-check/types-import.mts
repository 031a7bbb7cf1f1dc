// A TypeScript ESM consumer: the installed package's types resolve through `exports`.
import { Bus, CanError, type Message } from "canwire";

const bus: Bus = await Bus.open({ interface: "virtual", channel: "types" });
const msg: Message | null = await bus.recv({ timeoutMs: 1 });
const code: string | undefined = msg === null ? undefined : new CanError("ERR_CLOSED", "closed").code;

export { code };
