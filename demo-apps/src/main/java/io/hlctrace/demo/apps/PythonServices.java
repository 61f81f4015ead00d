package io.hlctrace.demo.apps;

/**
 * The demo's python3 programs: not JVMs, so the kernel probe stamps them (their messages carry the
 * executor's HLC in a TCP option). Run with {@code python3 -u -c SCRIPT ARGS}.
 */
public final class PythonServices {
    private PythonServices() {}

    /** An HTTP/1.1 service with keep-alive on a fixed port: prints {@code PORT n}. Args: port. */
    public static final String HTTP_SERVICE = String.join("\n",
            "import http.server, sys",
            "class H(http.server.BaseHTTPRequestHandler):",
            "    protocol_version = 'HTTP/1.1'",
            "    def do_GET(self):",
            "        body = ('py ' + self.path + ' ' + 'p' * 150).encode()",
            "        self.send_response(200)",
            "        self.send_header('Content-Type', 'text/plain')",
            "        self.send_header('Content-Length', str(len(body)))",
            "        self.end_headers()",
            "        self.wfile.write(body)",
            "    def log_message(self, *args):",
            "        pass",
            "server = http.server.ThreadingHTTPServer(('0.0.0.0', int(sys.argv[1])), H)",
            "print('PORT', server.server_address[1], flush=True)",
            "server.serve_forever()");

    /**
     * An HTTP/1.1 client on one kept-alive connection ({@code http.client}): N requests
     * {@code GET /item?id=py-i}; prints {@code DONE n failures}. Args: host:port, n.
     */
    public static final String HTTP_CLIENT = String.join("\n",
            "import http.client, sys, time",
            "host, port = sys.argv[1].rsplit(':', 1)",
            "n = int(sys.argv[2])",
            "c = http.client.HTTPConnection(host, int(port), timeout=10)",
            "failures = 0",
            "for i in range(n):",
            "    c.request('GET', '/item?id=py-%d' % i)",
            "    r = c.getresponse()",
            "    r.read()",
            "    if r.status != 200:",
            "        failures += 1",
            "    time.sleep(0.03)",
            "c.close()",
            "print('DONE', n, failures, flush=True)");
}
