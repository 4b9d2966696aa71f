import Foundation
import Core
import TestSupport
import Testing
import AMQPClient

/// The manifests, the Dockerfile and a local run of the Jobs from their own manifests.
/// Tools come from `WQ_TOOLS_BIN` (a virtual environment scripts/test fills from PyPI).
@Suite("Kubernetes manifests and the image", .serialized)
struct KubernetesTests {
    func tool(_ name: String, _ arguments: [String], environment: [String: String] = [:], timeout: Double = Command.defaultTimeout) throws
        -> CommandResult
    {
        try Tools.run(name, arguments, environment: environment, timeout: timeout)
    }

    var manifests: [String] {
        let root = Executables.packageRoot.path
        // monitoring/podmonitor.yaml and monitoring/prometheus-rule.yaml are left out: kubernetes-validate
        // has no schema for the Prometheus Operator's kinds (MonitoringManifestTests checks them).
        return ["work-queue.yaml", "job-settings.yaml", "topology-job.yaml", "loader-job.yaml", "processor-job.yaml", "keda/scaledjob.yaml", "monitoring/wqtop-exporter.yaml"]
            .map { "\(root)/kubernetes/\($0)" }
    }

    @Test("every manifest passes kubernetes-validate --strict for Kubernetes 1.33 and 1.34", arguments: ["1.33.0", "1.34.0"])
    func manifestsValidate(kubernetes version: String) throws {
        let r = try tool("kubernetes-validate", ["--strict", "-k", version] + manifests)
        #expect(r.status == 0, "\(r.output)")
        #expect(!r.output.contains("ERROR"), "\(r.output)")
        #expect(r.output.contains("against version \(version.dropLast(2))"), "not validated for \(version): \(r.output)")
        for resource in ["service/work-queue", "statefulset/work-queue", "job/load", "job/process", "deployment/wqtop-exporter", "service/wqtop-exporter"] {
            #expect(r.output.contains("passed for resource \(resource) "), "\(resource) not validated: \(r.output)")
        }
    }

    @Test("the Dockerfile passes hadolint at warning level")
    func dockerfileLints() throws {
        let root = Executables.packageRoot.path
        let r = try tool("hadolint", ["--config", "\(root)/.hadolint.yaml", "\(root)/Dockerfile"])
        #expect(r.status == 0, "\(r.output)")
    }

    @Test("the runtime stage installs every library ldd lists for the built binaries")
    func runtimeLibraries() throws {
        let dockerfile = try String(contentsOf: Executables.packageRoot.appendingPathComponent("Dockerfile"), encoding: .utf8)
        guard let runtime = dockerfile.range(of: "AS runtime") else { throw TestFailure("no runtime stage") }
        let installLine = dockerfile[runtime.upperBound...].components(separatedBy: "apt-get install").dropFirst().first ?? ""
        let installed = installLine.components(separatedBy: "&&")[0]
            .split(whereSeparator: { $0 == " " || $0 == "\\" || $0 == "\n" }).map(String.init)
            .filter { !$0.hasPrefix("-") && !$0.isEmpty }
        #expect(installed.contains("librabbitmq4"))
        let closure = try Command(
            "/usr/bin/apt-cache",
            ["depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances"]
                + installed
        ).run()
        let available = Set(closure.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .map { $0.hasPrefix("Depends: ") || $0.hasPrefix("PreDepends: ") ? String($0.split(separator: " ")[1]) : $0 }
            .map { $0.split(separator: ":").first.map(String.init) ?? $0 })
            .union(installed).union(["libc6", "libgcc-s1", "libstdc++6"])  // in debian:12-slim already
        for binary in ["loader", "processor", "wqtop"] {
            let ldd = try Command("/usr/bin/ldd", [Executables.binDirectory.appendingPathComponent(binary).path]).run()
            #expect(ldd.status == 0)
            for line in ldd.stdout.split(separator: "\n") {
                let parts = line.split(separator: " ")
                guard parts.count >= 3, parts[1] == "=>" else { continue }
                let path = String(parts[2])
                // Swift's runtime is linked statically into the image (--static-swift-stdlib).
                if path.hasPrefix("/opt/swift") || path.contains("/swift/") || parts[0].hasPrefix("libswift")
                    || parts[0].hasPrefix("libdispatch") || parts[0].hasPrefix("libBlocksRuntime") || parts[0].hasPrefix("libFoundation")
                {
                    continue
                }
                let owner = try Command("/usr/bin/dpkg", ["-S", path]).run()
                var package = owner.stdout.split(separator: ":").first.map(String.init) ?? ""
                if owner.status != 0 {  // /lib is a symlink to /usr/lib on Debian 12
                    let alt = path.hasPrefix("/usr") ? String(path.dropFirst(4)) : "/usr" + path
                    package = try Command("/usr/bin/dpkg", ["-S", alt]).run().stdout.split(separator: ":").first.map(String.init) ?? ""
                }
                #expect(!package.isEmpty, "no Debian package owns \(path)")
                #expect(available.contains(package), "\(binary) needs \(path) from \(package), which the runtime stage does not install")
            }
        }
    }

    /// Writes the Secrets file local-job reads (the test broker's guest user, or `password`).
    func secretsFile(in dir: TempDir, password: String = "guest") throws -> String {
        let path = dir.path + "/secrets-\(password).env"
        try "work-queue-credentials.username=guest\nwork-queue-credentials.password=\(password)\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The processor container's `args` in processor-job.yaml.
    func processorJobArguments() throws -> [String] {
        let path = Executables.packageRoot.appendingPathComponent("kubernetes/processor-job.yaml").path
        for case let document as [String: Any] in try Tools.yamlDocuments(path) {
            guard let spec = (document["spec"] as? [String: Any])?["template"] as? [String: Any],
                let containers = (spec["spec"] as? [String: Any])?["containers"] as? [[String: Any]],
                let args = containers.first?["args"] as? [String]
            else { continue }
            return args
        }
        throw TestFailure("processor-job.yaml: no container args")
    }

    @Test("every tool's manifest takes WORK_QUEUE_SHARDS from the one ConfigMap, so loader, processors and wqtop cannot disagree")
    func shardCountComesFromOneConfigMap() throws {
        let root = Executables.packageRoot.path
        let settings = try Tools.yamlDocuments("\(root)/kubernetes/job-settings.yaml").compactMap { $0 as? [String: Any] }
        let data = settings.first { $0["kind"] as? String == "ConfigMap" }?["data"] as? [String: Any]
        #expect(data?["WORK_QUEUE_SHARDS"] as? String == "1", "job-settings.yaml: \(settings)")
        for manifest in manifests where !manifest.hasSuffix("work-queue.yaml") && !manifest.hasSuffix("job-settings.yaml") {
            var found = 0
            for case let document as [String: Any] in try Tools.yamlDocuments(manifest) {
                // Jobs and Deployments hold spec.template; the ScaledJob spec.jobTargetRef.template.
                let spec = document["spec"] as? [String: Any]
                let template = (spec?["template"] ?? (spec?["jobTargetRef"] as? [String: Any])?["template"]) as? [String: Any]
                guard let containers = (template?["spec"] as? [String: Any])?["containers"] as? [[String: Any]] else { continue }
                for container in containers {
                    let env = container["env"] as? [[String: Any]] ?? []
                    let shards = env.filter { $0["name"] as? String == "WORK_QUEUE_SHARDS" }
                    let ref = (shards.first?["valueFrom"] as? [String: Any])?["configMapKeyRef"] as? [String: Any]
                    #expect(shards.count == 1 && ref?["name"] as? String == "work-queue-job" && ref?["key"] as? String == "WORK_QUEUE_SHARDS",
                        "\(manifest): container \(container["name"] ?? "?") does not read WORK_QUEUE_SHARDS from the ConfigMap work-queue-job")
                    found += 1
                }
            }
            #expect(found > 0, "\(manifest): no container found")
        }
    }

    /// Runs a manifest with scripts/local-job against the test broker; `args` replace the container's.
    func localJob(_ manifest: String, queue: String, secrets: String, env: [String] = [], args: [String] = []) throws -> CommandResult {
        let root = Executables.packageRoot.path
        return try tool(
            "python",
            ["\(root)/scripts/local-job", "\(root)/kubernetes/\(manifest)", "--secrets", secrets,
             "--service", "work-queue=127.0.0.1", "--env", "WORK_QUEUE_PORT=\(TestBroker.port)",
             "--env", "WORK_QUEUE_NAME=\(queue)", "--bin", Executables.binDirectory.path, "--timeout", "120"]
                + env.flatMap { ["--env", $0] } + (args.isEmpty ? [] : ["--"] + args),
            timeout: 300)  // local-job gives the Job 120 s; starting and reporting takes a little more
    }

    @Test("the loader and processor Jobs, run from their own manifests, drain a load; bad credentials fail the Job")
    func localJobDrains() throws {
        let s = try Scenario("job")
        let secrets = try secretsFile(in: s.dir)
        func job(_ manifest: String, secretsFile: String = secrets) throws -> CommandResult {
            try localJob(manifest, queue: s.queue, secrets: secretsFile)
        }
        let load = try job("loader-job.yaml")
        #expect(load.status == 0, "\(load.output)")
        #expect(load.stdout.contains("job load Complete"))
        #expect(try s.counts()?.ready == 100)
        // The manifest's own arguments, but a pod that starts after the others drained the 100 items
        // waits 5 s for work instead of the manifest's 60 (as it would in a cluster: 55 s of CI).
        let manifestArgs = try processorJobArguments()
        let waitIndex = try #require(manifestArgs.firstIndex(of: "--wait-for-work"))
        var args = manifestArgs
        args[waitIndex + 1] = "5"
        let process = try localJob("processor-job.yaml", queue: s.queue, secrets: secrets, args: args)
        #expect(process.status == 0, "\(process.output)")
        #expect(process.stdout.contains("job process Complete: 5 of 5 pods succeeded"), "\(process.output)")
        let processed = process.stdout.split(separator: "\n").filter { $0.hasPrefix("processed ") }.count
        #expect(processed == 100)
        #expect(try s.counts() == QueueCounts(ready: 0, consumers: 0))

        let refused = try job("processor-job.yaml", secretsFile: try secretsFile(in: s.dir, password: "nope"))
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("job process Failed: PodFailurePolicy"), "\(refused.output)")
    }

    @Test("a processor Job whose item kills its pod completes: replacement pods, the item parked after --max-attempts, every other item done")
    func localJobReplacesKilledPods() throws {
        let s = try Scenario("killer")
        let good = (1...20).map { "good-\($0)" }
        try s.load(good + ["killer"])

        // The processor is the command's parent: `kill -9 $PPID` kills the pod while it works on the item.
        let script = #"printf '%s\n' "$1" >> "$OUT/tries"; if [ "$1" = killer ]; then kill -9 $PPID; exit 0; fi; printf '%s\n' "$1" >> "$OUT/done""#
        let r = try localJob(
            "processor-job.yaml", queue: s.queue, secrets: try secretsFile(in: s.dir), env: ["OUT=\(s.dir.path)"],
            args: ["--grace", "5", "--max-attempts", "3"] + Scenario.shell(script))
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stdout.contains("job process Complete"), "\(r.output)")
        #expect(r.stderr.contains("(replacement for process-"), "no replacement pod: \(r.output)")
        #expect(s.lines("tries").filter { $0 == "killer" }.count == 3, "\(r.output)")
        #expect(Set(s.done) == Set(good), "\(r.output)")
        let dead = try s.drain(s.failedQueue)
        #expect(dead.map(\.body) == [Array("killer".utf8)])
        if case .string(let reason) = dead.first?.headers["x-failure-reason"] {
            #expect(reason.contains("died while working on it"), "\(reason)")
        } else {
            Issue.record("no x-failure-reason header")
        }
        #expect(try s.counts() == QueueCounts(ready: 0, consumers: 0))
    }
}
