// Debugging aid: a logging HTTP proxy. Forwards every request to UPSTREAM and appends one JSON line
// per exchange to LOG: method, path, request body, status, response body (JSON-parsed when possible).
// usage: node log_proxy.mjs UPSTREAM_URL LISTEN_PORT LOG_FILE
// e.g.   node log_proxy.mjs http://127.0.0.1:8000 8100 /tmp/requests.jsonl &
//        CHROMA_URL=http://127.0.0.1:8100 node basic_flow.mjs
import { createServer } from "node:http";
import { appendFileSync } from "node:fs";

const [upstream, port, log] = process.argv.slice(2);
if (!upstream || !port || !log) {
  console.error("usage: node log_proxy.mjs UPSTREAM_URL LISTEN_PORT LOG_FILE");
  process.exit(2);
}

const parse = (text) => {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = Buffer.concat(chunks).toString("utf8");
  const headers = { ...req.headers };
  delete headers.host;
  delete headers["content-length"];
  try {
    const up = await fetch(upstream + req.url, {
      method: req.method,
      headers,
      body: ["GET", "HEAD"].includes(req.method) ? undefined : body,
    });
    const text = await up.text();
    appendFileSync(
      log,
      JSON.stringify({
        method: req.method,
        path: req.url,
        content_type: req.headers["content-type"],
        request: parse(body),
        status: up.status,
        response: parse(text),
      }) + "\n",
    );
    res.writeHead(up.status, { "content-type": up.headers.get("content-type") ?? "application/json" });
    res.end(text);
  } catch (err) {
    res.writeHead(502, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: "ProxyError", message: String(err) }));
  }
}).listen(Number(port), "127.0.0.1", () => console.error(`log_proxy: :${port} -> ${upstream}, log ${log}`));
