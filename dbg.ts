import { FlagdProvider } from "@flagd-ts/provider";
import { OpenFeature } from "@openfeature/server-sdk";
const [mode, port] = Deno.args;
const p = new FlagdProvider({ host: "127.0.0.1", port: Number(port), resolver: mode as "rpc", deadlineMs: 1000 });
try { await OpenFeature.setProviderAndWait(p); } catch (e) { console.error("init failed", String(e)); }
const t = Date.now();
await OpenFeature.close();
console.error("closed in", Date.now() - t);
