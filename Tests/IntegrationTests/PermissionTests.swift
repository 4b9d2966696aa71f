import Foundation
import TestSupport
import Testing

/// The permissions docs/permissions.md documents, as RabbitMQ regular expressions for `queue`.
struct DocumentedPermissions {
    let configure: String
    let write: String
    let read: String

    static func loader(_ q: String) -> Self { .init(configure: "^$", write: "^(amq\\.default|\(q)\\.progress)$", read: "^$") }
    static func processor(_ q: String) -> Self {
        .init(configure: "^$", write: "^(amq\\.default|\(q)\\.progress)$", read: "^\(q)(\\.stopping)?$")
    }
    static func wqtop(_ q: String) -> Self {
        .init(configure: "^amq\\.gen-.*$", write: "^(amq\\.gen-.*|amq\\.default|\(q)\\.progress)$", read: "^(amq\\.gen-.*|\(q)\\.progress|\(q)\\.failed)$")
    }
    static func administrator(_ q: String) -> Self { .init(configure: "^\(q)(\\.failed|\\.stopping|\\.progress)?$", write: "^$", read: "^$") }
}

/// A user of the test broker with exactly `permissions`, deleted at the end of the test.
final class BrokerUser {
    let name = "wq-user-\(UUID().uuidString.prefix(8).lowercased())"
    let password = "pw-\(UUID().uuidString.prefix(12))"

    init(_ permissions: DocumentedPermissions) throws {
        try BrokerControl.ctl(["add_user", name, password])
        try BrokerControl.ctl(["set_permissions", "-p", "/", name, permissions.configure, permissions.write, permissions.read])
    }

    deinit { try? BrokerControl.ctl(["delete_user", name]) }

    func environment(queue: String) -> [String: String] {
        TestBroker.environment(queue: queue, extra: ["WORK_QUEUE_URL": "amqp://\(name):\(password)@127.0.0.1:\(TestBroker.port)/"])
    }
}

@Suite("Least privilege: users without configure permission, once the topology is declared", .serialized)
struct PermissionTests {
    func expectOneLine(_ result: CommandResult, tool: String, status: Int32, containing text: String) {
        #expect(result.status == status, "\(result.output)")
        let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("\(tool):") }
        #expect(errors.count == 1 && errors.first?.contains(text) == true, "\(result.stderr)")
        #expect(!result.output.contains("password"), "a refusal after login never points at the password: \(result.output)")
    }

    @Test("with loader --declare-only run once, users with exactly the documented permissions load, drain and watch")
    func documentedPermissionsSuffice() throws {
        let s = try Scenario("perm")
        let queue = s.queue
        let admin = try BrokerUser(.administrator(queue))
        let declared = try Executables.run("loader", ["--declare-only"], environment: admin.environment(queue: queue))
        #expect(declared.status == 0, "\(declared.output)")
        #expect(declared.stderr.contains("declared the classic queues \(queue), \(queue).failed, \(queue).stopping and the fanout exchange \(queue).progress"))
        let loaderUser = try BrokerUser(.loader(queue)), processorUser = try BrokerUser(.processor(queue)), monitorUser = try BrokerUser(.wqtop(queue))
        let items = (1...20).map { $0 % 10 == 0 ? "bad-\($0)" : "item-\($0)" }
        let load = try Executables.run("loader", ["--quiet"] + items, environment: loaderUser.environment(queue: queue))
        #expect(load.status == 0, "\(load.output)")
        let monitor = try Executables.start(
            "wqtop", ["--json", "--exit-when-drained", "--interval", "0.3"], environment: monitorUser.environment(queue: queue))
        try waitUntil("wqtop's first frame") { monitor.stdout.contains("\n") }
        // Failing items are retried (a publish to QUEUE) and dead-lettered (to QUEUE.failed).
        let drain = try Executables.run(
            "processor", ["--max-attempts", "2", "--", "sh", "-c", "case \"$WORK_ITEM\" in bad-*) exit 3;; esac"],
            environment: processorUser.environment(queue: queue).merging(["POD_NAME": "perm-pod"]) { $1 }, timeout: 60)
        #expect(drain.status == 0, "\(drain.output)")
        let end = try monitor.wait(timeout: 30)
        #expect(end.status == 0 && !end.stdout.contains("events_off"), "\(end.output)")
        let last = try #require(try MonitorLine.parse(end.stdout).last)
        #expect(last.processed == 18 && last.pods.map(\.pod) == ["perm-pod"], "\(end.stdout.suffix(600))")
        #expect(try s.counts(s.failedQueue)?.ready == 2)
    }

    @Test("with shards, --declare-only declares every shard and users with the documented permissions (the shards added to read) load and drain")
    func documentedPermissionsSufficeWithShards() throws {
        let s = try Scenario("perm-shards", shards: 2)
        let queue = s.queue
        let shards = ["WORK_QUEUE_SHARDS": "2"]
        let admin = try BrokerUser(.init(configure: "^\(queue)(\\.failed|\\.stopping|\\.progress|\\.[0-9]+)?$", write: "^$", read: "^$"))
        let declared = try Executables.run("loader", ["--declare-only"], environment: admin.environment(queue: queue).merging(shards) { $1 })
        #expect(declared.status == 0, "\(declared.output)")
        #expect(declared.stderr.contains("declared the classic queues \(queue).0, \(queue).1, \(queue).failed, \(queue).stopping"), "\(declared.stderr)")
        // The processor's permissions include the loader's (one user for both: fewer rabbitmqctl calls).
        let processorUser = try BrokerUser(
            .init(configure: "^$", write: "^(amq\\.default|\(queue)\\.progress)$", read: "^\(queue)(\\.[0-9]+|\\.stopping)?$"))
        let load = try Executables.run("loader", ["--quiet", "a", "b", "bad", "c"], environment: processorUser.environment(queue: queue).merging(shards) { $1 })
        #expect(load.status == 0, "\(load.output)")
        let drain = try Executables.run(
            "processor", ["--max-attempts", "2", "--", "sh", "-c", "test \"$WORK_ITEM\" != bad"],
            environment: processorUser.environment(queue: queue).merging(shards) { $1 }, timeout: 60)
        #expect(drain.status == 0, "\(drain.output)")
        #expect(drain.stderr.contains("processed all work: 3 items (1 failed)"), "\(drain.stderr)")
        #expect(try s.counts(s.failedQueue)?.ready == 1)
    }

    @Test("a user missing one documented permission gets one line naming the operation, the object and the permission; exit 77")
    func missingPermissionIsNamed() throws {
        let s = try Scenario("perm-missing")
        let queue = s.queue
        try s.load(["--declare-only"])
        var noWrite = DocumentedPermissions.loader(queue)
        noWrite = .init(configure: noWrite.configure, write: "^\(queue)\\.progress$", read: noWrite.read)
        // Each user lives to the end of the test (its deinit deletes it).
        let writer = try BrokerUser(noWrite)
        let loader = try Executables.run("loader", ["a", "b"], environment: writer.environment(queue: queue))
        expectOneLine(loader, tool: "loader", status: 77, containing: "basic.publish: access refused by the broker at 127.0.0.1:\(TestBroker.port): user 'wq-user-")
        #expect(loader.stderr.contains("has no write permission on exchange 'amq.default' in vhost '/'; an administrator grants it"))

        let processorPermissions = DocumentedPermissions.processor(queue)
        let noRead = DocumentedPermissions(configure: "^$", write: processorPermissions.write, read: "^\(queue)\\.stopping$")
        let reader = try BrokerUser(noRead)
        let processor = try Executables.run("processor", ["--", "true"], environment: reader.environment(queue: queue))
        expectOneLine(processor, tool: "processor", status: 77, containing: "has no read permission on queue '\(queue)'")

        let monitorPermissions = DocumentedPermissions.wqtop(queue)
        let noConfigure = DocumentedPermissions(configure: "^$", write: monitorPermissions.write, read: monitorPermissions.read)
        let watcher = try BrokerUser(noConfigure)
        let monitor = try Executables.run("wqtop", ["--once", "--interval", "0.2"], environment: watcher.environment(queue: queue))
        #expect(monitor.status == 0, "\(monitor.output)")
        #expect(monitor.stdout.contains("No progress events"), "wqtop goes on without events and says why: \(monitor.stdout)")
    }

    @Test("without the topology, a user without configure permission is told to declare it (loader --declare-only); exit 77")
    func missingTopology() throws {
        let s = try Scenario("perm-none")
        let queue = s.queue
        let user = try BrokerUser(.processor(queue))
        let processor = try Executables.run("processor", ["--", "true"], environment: user.environment(queue: queue))
        expectOneLine(processor, tool: "processor", status: 77, containing: "queue.declare '\(queue)': the queue does not exist, and creating it was refused")
        #expect(processor.stderr.contains("has no configure permission on queue '\(queue)'") && processor.stderr.contains("loader --declare-only"))
        #expect(try s.counts() == nil)
    }
}
