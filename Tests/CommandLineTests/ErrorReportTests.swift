import Core
import Testing

import CommandLineOptions

@Suite("ErrorReport: the tools' words for what the layers below report")
struct ErrorReportTests {
    typealias Remedy = WorkQueueError.Remedy

    @Test("each remedy is phrased in flags and variables, after (or, for a file, before) what failed")
    func eachRemedy() {
        let expected: [Remedy: String] = [
            .checkHost: "loader: X; check WORK_QUEUE_HOST or --host",
            .checkBrokerRunning: "loader: X; is RabbitMQ running and the port right?",
            .raiseConnectTimeout: "loader: X; check the address or raise --connect-timeout",
            .checkTLS: "loader: X; check --cacert, or --insecure to skip verification",
            .checkCACertificateFile: "loader: --cacert X",
            .checkCredentials: "loader: X; check the user, password and vhost",
            .checkVhost: "loader: X; check WORK_QUEUE_VHOST or --vhost",
            .queueSettingsDiffer: "loader: X; an existing queue or exchange has other settings (for example --queue-type)",
            .grantPermission: "loader: X; an administrator grants it with rabbitmqctl set_permissions (what each tool needs: docs/permissions.md)",
            .declareTopology:
                "loader: X; declare the queues once as a user who may (loader --declare-only), or grant configure permission (docs/permissions.md)",
        ]
        for remedy in Remedy.allCases {
            #expect(ErrorReport.line(tool: "loader", WorkQueueError(.failure, "X", remedy: remedy)) == expected[remedy], "\(remedy)")
        }
    }

    @Test("the lines read as the tools always printed them")
    func wholeLines() {
        let unresolved = WorkQueueError(.unavailable, "connect: cannot resolve the broker host nohost:5672", remedy: .checkHost)
        #expect(ErrorReport.line(tool: "processor", unresolved) == "processor: connect: cannot resolve the broker host nohost:5672; check WORK_QUEUE_HOST or --host")
        let file = WorkQueueError(.usage, "/tmp/x.pem: not a usable PEM certificate file", remedy: .checkCACertificateFile)
        #expect(ErrorReport.line(tool: "wqtop", file) == "wqtop: --cacert /tmp/x.pem: not a usable PEM certificate file")
        #expect(ErrorReport.line(tool: "loader", .usage("unknown option --frobnicate")) == "loader: unknown option --frobnicate")
    }

    @Test("an error summing up others keeps each remedy in its place; text added later comes after them")
    func composedErrors() {
        let first = WorkQueueError(.unavailable, "connect: cannot connect to the broker at a:1 (refused)", remedy: .checkBrokerRunning)
        let second = WorkQueueError(.unavailable, "connect: the broker at b:2 did not answer in time", remedy: .raiseConnectTimeout)
        let none = WorkQueueError(.unavailable, "no broker answered: ", joining: [first, second])
        #expect(
            ErrorReport.line(tool: "loader", none)
                == "loader: no broker answered: connect: cannot connect to the broker at a:1 (refused); is RabbitMQ running and the port right?; connect: the broker at b:2 did not answer in time; check the address or raise --connect-timeout")
        #expect(none.message == "no broker answered: connect: cannot connect to the broker at a:1 (refused); connect: the broker at b:2 did not answer in time")
        #expect(none.remedy == .raiseConnectTimeout)

        let gaveUp = second.appending("; gave up after 30 s; 5 items were processed", kind: .failure)
        #expect(gaveUp.kind == .failure && gaveUp.exitCode == 1)
        #expect(
            ErrorReport.line(tool: "processor", gaveUp)
                == "processor: connect: the broker at b:2 did not answer in time; check the address or raise --connect-timeout; gave up after 30 s; 5 items were processed")
    }

    @Test("reclassifying keeps the text and the remedy; log lines get the message without remedies")
    func reclassified() {
        let lost = WorkQueueError(.connectionLost, "login: the broker at h:1 did not answer in time", remedy: .raiseConnectTimeout)
        let unreachable = lost.reclassified(as: .unavailable)
        #expect(unreachable.exitCode == 69)
        #expect(unreachable.remedy == .raiseConnectTimeout)
        #expect(unreachable.message == "login: the broker at h:1 did not answer in time")
        #expect(ErrorReport.line(tool: "loader", unreachable).hasSuffix("; check the address or raise --connect-timeout"))
    }
}
