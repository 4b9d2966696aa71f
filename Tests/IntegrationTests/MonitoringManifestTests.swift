import Foundation
import TestSupport
import Testing

/// kubernetes/monitoring: the alert rules pass promtool and their own unit tests, each alert has a
/// case that fires and one that must not, and the exporter runs `wqtop --serve` locked down,
/// probed and bounded, where the PodMonitor and the rules expect it. kubernetes-validate of the
/// Deployment and Service is KubernetesTests' (its manifest list); the PodMonitor and the
/// PrometheusRule have no schema there, so they are checked here by structure.
@Suite("Monitoring manifests and alert rules")
struct MonitoringManifestTests {
    static let folder = Executables.packageRoot.appendingPathComponent("kubernetes/monitoring").path
    static let rules = folder + "/alert-rules.yaml"
    static let ruleTests = folder + "/alert-rules-test.yaml"
    static let alerts: Set = [
        "WorkQueueDeadLetters", "WorkQueueStalled", "WorkQueueItemNearConsumerTimeout", "WorkQueueBrokerAlarm", "WorkQueuePodsLost", "WorkQueueMonitorDisconnected",
        "WorkQueueExporterDown",
    ]

    func promtool(_ arguments: [String]) throws -> CommandResult {
        try Tools.runSystem("promtool", arguments, install: "scripts/install-deps installs it (Debian package prometheus)")
    }

    /// The rules of alert-rules.yaml (or of another file with the same `groups:`).
    func rules(_ groups: Any?) -> [[String: Any]] {
        ((groups as? [[String: Any]]) ?? []).flatMap { ($0["rules"] as? [[String: Any]]) ?? [] }
    }

    func document(_ path: String, kind: String) throws -> [String: Any] {
        let documents = try Tools.yamlDocuments(path).compactMap { $0 as? [String: Any] }
        guard let document = documents.first(where: { $0["kind"] as? String == kind }) else { throw TestFailure("no \(kind) in \(path)") }
        return document
    }

    @Test("promtool check rules accepts alert-rules.yaml")
    func rulesCheck() throws {
        let r = try promtool(["check", "rules", Self.rules])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("SUCCESS: \(Self.alerts.count) rules found"), "\(r.output)")
    }

    @Test("promtool test rules passes alert-rules-test.yaml")
    func ruleUnitTests() throws {
        let r = try promtool(["test", "rules", Self.ruleTests])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("SUCCESS"), "\(r.output)")
    }

    @Test("every alert has for, a severity, a summary and description naming the queue, a case where it fires and one where it must not")
    func everyAlertIsComplete() throws {
        let rules = rules((try Tools.yamlDocuments(Self.rules).first as? [String: Any])?["groups"])
        #expect(Set(rules.compactMap { $0["alert"] as? String }) == Self.alerts)
        for rule in rules {
            let name = rule["alert"] as? String ?? "?"
            #expect(rule["for"] is String, "\(name) has no for")
            #expect(["warning", "critical"].contains((rule["labels"] as? [String: Any])?["severity"] as? String), "\(name): severity")
            let annotations = rule["annotations"] as? [String: String] ?? [:]
            for key in ["summary", "description"] {
                #expect(annotations[key]?.contains("{{ $labels.queue }}") == true, "\(name): \(key) does not name the queue")
            }
        }
        let tests = (try Tools.yamlDocuments(Self.ruleTests).first as? [String: Any])?["tests"] as? [[String: Any]] ?? []
        let cases = tests.flatMap { ($0["alert_rule_test"] as? [[String: Any]]) ?? [] }
        for alert in Self.alerts {
            let expected = cases.filter { $0["alertname"] as? String == alert }.map { ($0["exp_alerts"] as? [Any])?.count ?? 0 }
            #expect(expected.contains { $0 > 0 }, "no case where \(alert) fires")
            #expect(expected.contains(0), "no case where \(alert) must stay quiet")
        }
    }

    @Test("promtool can fail: a broken rule fails check rules, a wrong expectation fails test rules")
    func promtoolCatchesMistakes() throws {
        let dir = try TempDir()
        let rules = try String(contentsOfFile: Self.rules, encoding: .utf8)
        let tests = try String(contentsOfFile: Self.ruleTests, encoding: .utf8)
        func write(_ name: String, _ text: String, replacing old: String, with new: String) throws {
            #expect(text.contains(old), "\(name) no longer holds \(old)")
            try text.replacingOccurrences(of: old, with: new).write(toFile: "\(dir.path)/\(name)", atomically: true, encoding: .utf8)
        }

        try write("alert-rules.yaml", rules, replacing: "workqueue_broker_alarm == 1", with: "workqueue_broker_alarm == == 1")
        let broken = try promtool(["check", "rules", "\(dir.path)/alert-rules.yaml"])
        #expect(broken.status != 0, "\(broken.output)")
        #expect(broken.output.contains("parse error"), "\(broken.output)")

        // The stall alert without its in-flight clause fires for slow items, which the tests forbid.
        try write("alert-rules.yaml", rules, replacing: "unless on(queue) workqueue_items_in_flight > 0", with: "")
        try tests.write(toFile: "\(dir.path)/alert-rules-test.yaml", atomically: true, encoding: .utf8)
        let loose = try promtool(["test", "rules", "\(dir.path)/alert-rules-test.yaml"])
        #expect(loose.status != 0, "\(loose.output)")
        #expect(loose.output.contains(#"queue="slow""#), "\(loose.output)")

        try rules.write(toFile: "\(dir.path)/alert-rules.yaml", atomically: true, encoding: .utf8)
        try write("alert-rules-test.yaml", tests, replacing: "summary: \"Queue q is stalled\"", with: "summary: \"Queue q is fine\"")
        let wrong = try promtool(["test", "rules", "\(dir.path)/alert-rules-test.yaml"])
        #expect(wrong.status != 0, "\(wrong.output)")
        #expect(wrong.output.contains("FAILED"), "\(wrong.output)")
    }

    @Test("prometheus-rule.yaml holds the same groups as alert-rules.yaml")
    func operatorRulesMatch() throws {
        let plain = try Tools.yamlDocuments(Self.rules).first as? [String: Any]
        let wrapped = try document(Self.folder + "/prometheus-rule.yaml", kind: "PrometheusRule")
        #expect(wrapped["apiVersion"] as? String == "monitoring.coreos.com/v1")
        func json(_ value: Any?) throws -> String? {
            guard let value else { return nil }
            return String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]), as: UTF8.self)
        }
        let groups = try json(plain?["groups"])
        let wrappedGroups = try json((wrapped["spec"] as? [String: Any])?["groups"])
        #expect(groups != nil && groups == wrappedGroups, "edit alert-rules.yaml, then copy its groups into prometheus-rule.yaml")
    }

    @Test("the exporter runs wqtop --serve :9464 as the image's user, locked down, probed on /healthz, with requests and limits")
    func exporterDeployment() throws {
        let deployment = try document(Self.folder + "/wqtop-exporter.yaml", kind: "Deployment")
        let spec = deployment["spec"] as? [String: Any] ?? [:]
        #expect(spec["replicas"] as? Int == 1)
        let pod = (spec["template"] as? [String: Any])?["spec"] as? [String: Any] ?? [:]
        let containers = pod["containers"] as? [[String: Any]] ?? []
        try #require(containers.count == 1)
        let container = containers[0]
        #expect(container["command"] as? [String] == ["wqtop"])
        #expect(container["args"] as? [String] == ["--serve", ":9464"])

        let podSecurity = pod["securityContext"] as? [String: Any] ?? [:]
        #expect(podSecurity["runAsNonRoot"] as? Bool == true)
        let dockerfile = try String(contentsOf: Executables.packageRoot.appendingPathComponent("Dockerfile"), encoding: .utf8)
        let imageUser = dockerfile.split(separator: "\n").last { $0.hasPrefix("USER ") }.map { Int($0.dropFirst(5)) } ?? nil
        #expect(imageUser != nil && podSecurity["runAsUser"] as? Int == imageUser, "runAsUser is not the Dockerfile's USER")
        #expect((podSecurity["seccompProfile"] as? [String: Any])?["type"] as? String == "RuntimeDefault")
        let security = container["securityContext"] as? [String: Any] ?? [:]
        #expect(security["readOnlyRootFilesystem"] as? Bool == true)
        #expect(security["allowPrivilegeEscalation"] as? Bool == false)
        #expect((security["capabilities"] as? [String: Any])?["drop"] as? [String] == ["ALL"])

        let ports = container["ports"] as? [[String: Any]] ?? []
        #expect(ports.contains { $0["name"] as? String == "metrics" && $0["containerPort"] as? Int == 9464 })
        for probe in ["livenessProbe", "readinessProbe"] {
            let get = (container[probe] as? [String: Any])?["httpGet"] as? [String: Any] ?? [:]
            #expect(get["path"] as? String == "/healthz", "\(probe)")
            #expect(get["port"] as? String == "metrics" || get["port"] as? Int == 9464, "\(probe)")
        }
        let resources = container["resources"] as? [String: [String: Any]] ?? [:]
        for bound in ["requests", "limits"] {
            #expect(resources[bound]?["cpu"] != nil && resources[bound]?["memory"] != nil, "no \(bound) of cpu and memory")
        }

        // The same broker address, queue and Secret as the processors'.
        let env = Dictionary((container["env"] as? [[String: Any]] ?? []).map { ($0["name"] as? String ?? "", $0) }) { a, _ in a }
        #expect(env["WORK_QUEUE_HOST"]?["value"] as? String == "work-queue")
        #expect(env["WORK_QUEUE_NAME"]?["value"] as? String == "work-queue")
        for (name, key) in [("WORK_QUEUE_USER", "username"), ("WORK_QUEUE_PASSWORD", "password")] {
            let ref = (env[name]?["valueFrom"] as? [String: Any])?["secretKeyRef"] as? [String: Any]
            #expect(ref?["name"] as? String == "work-queue-credentials" && ref?["key"] as? String == key, "\(name)")
        }
    }

    @Test("the Service and the PodMonitor find the exporter's pods and port, and label them as the rules expect")
    func scraping() throws {
        let path = Self.folder + "/wqtop-exporter.yaml"
        let template = ((try document(path, kind: "Deployment"))["spec"] as? [String: Any])?["template"] as? [String: Any]
        let podLabels = (template?["metadata"] as? [String: Any])?["labels"] as? [String: String] ?? [:]
        let container = ((template?["spec"] as? [String: Any])?["containers"] as? [[String: Any]])?.first
        let queueEnv = (container?["env"] as? [[String: Any]])?.first { $0["name"] as? String == "WORK_QUEUE_NAME" }?["value"] as? String
        func selects(_ selector: [String: String]?) -> Bool {
            guard let selector, !selector.isEmpty else { return false }
            return selector.allSatisfy { podLabels[$0.key] == $0.value }
        }

        let service = try document(path, kind: "Service")
        let annotations = (service["metadata"] as? [String: Any])?["annotations"] as? [String: String] ?? [:]
        #expect(annotations["prometheus.io/scrape"] == "true")
        #expect(annotations["prometheus.io/port"] == "9464")
        #expect(annotations["prometheus.io/path"] == "/metrics")
        let serviceSpec = service["spec"] as? [String: Any] ?? [:]
        #expect(selects(serviceSpec["selector"] as? [String: String]), "the Service selects no exporter pod")
        let ports = serviceSpec["ports"] as? [[String: Any]] ?? []
        #expect(ports.contains { $0["name"] as? String == "metrics" && $0["port"] as? Int == 9464 && $0["targetPort"] as? String == "metrics" })

        let monitor = try document(Self.folder + "/podmonitor.yaml", kind: "PodMonitor")
        #expect(monitor["apiVersion"] as? String == "monitoring.coreos.com/v1")
        let spec = monitor["spec"] as? [String: Any] ?? [:]
        #expect(selects((spec["selector"] as? [String: Any])?["matchLabels"] as? [String: String]), "the PodMonitor selects no exporter pod")
        let endpoints = spec["podMetricsEndpoints"] as? [[String: Any]] ?? []
        #expect(endpoints.count == 1)
        #expect(endpoints.first?["port"] as? String == "metrics")
        #expect(endpoints.first?["path"] as? String == "/metrics")
        #expect(endpoints.first?["interval"] as? String == "15s")
        // The processors' `pod` label must win over the Operator's (the exporter's own pod).
        #expect(endpoints.first?["honorLabels"] as? Bool == true)
        // job is the pod label jobLabel names, which WorkQueueExporterDown selects on; `queue`
        // comes from the pod's label, which must say the queue wqtop watches.
        let job = (spec["jobLabel"] as? String).flatMap { podLabels[$0] }
        let rules = try String(contentsOfFile: Self.rules, encoding: .utf8)
        #expect(job != nil && rules.contains("up{job=\"\(job ?? "")\"}"), "the rules' up{job=...} is not the PodMonitor's job \(job ?? "none")")
        #expect(spec["podTargetLabels"] as? [String] == ["queue"])
        #expect(podLabels["queue"] != nil && podLabels["queue"] == queueEnv, "the pod's queue label is not its WORK_QUEUE_NAME")
    }
}
