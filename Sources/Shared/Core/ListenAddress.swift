/// Where `wqtop --serve` listens: `[HOST]:PORT`, e.g. `:9464` (every interface), `127.0.0.1:9464`
/// or `[::1]:9464`. Port 0 asks the system for a free one (wqtop says which).
package struct ListenAddress: Sendable, Equatable {
    /// An IPv4 or IPv6 address or a host name; `0.0.0.0` when the address gave none.
    package var host: String
    package var port: Int

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `text`; the error names the flag and shows the expected form.
    package init(parsing text: String, option: String = "--serve") throws(WorkQueueError) {
        let bad = WorkQueueError.usage("\(option) wants [HOST]:PORT (e.g. :9464 or 127.0.0.1:9464), not '\(text)'")
        guard let colon = text.lastIndex(of: ":") else { throw bad }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        guard !portText.isEmpty, portText.allSatisfy(\.isASCII), portText.allSatisfy(\.isNumber), let port = Int(portText), port <= 65535
        else { throw bad }
        if host.hasPrefix("[") {
            guard host.hasSuffix("]"), host.count > 2 else { throw bad }
            host = String(host.dropFirst().dropLast())
        } else if host.contains(":") {
            // An IPv6 address needs brackets: [::1]:9464.
            throw bad
        }
        guard !host.contains(where: { $0 == " " || $0 == "/" || $0 == "[" || $0 == "]" || !$0.isASCII }) else { throw bad }
        self.host = host.isEmpty ? "0.0.0.0" : host
        self.port = port
    }

    /// `host:port`, with brackets around an IPv6 address.
    package var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
