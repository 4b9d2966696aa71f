import Testing
import Core

@Suite("Access refusals")
struct AccessRefusalTests {
    @Test("RabbitMQ 3.10 does not name the permission: it follows from the operation and the object")
    func permissionFromOperation() {
        let cases: [(String, String, AccessRefusal.Permission?)] = [
            ("queue.declare", "queue", .configure),
            ("exchange.declare", "exchange", .configure),
            ("basic.publish", "exchange", .write),
            ("basic.consume", "queue", .read),
            ("basic.get", "queue", .read),
            ("queue.bind", "queue", .write),
            ("queue.bind", "exchange", .read),
            ("basic.qos", "queue", nil),
        ]
        for (operation, kind, permission) in cases {
            let reason = "ACCESS_REFUSED - access to \(kind) 'x' in vhost '/' refused for user 'app'"
            let refusal = AccessRefusal(operation: operation, brokerReason: reason)
            #expect(refusal?.permission == permission, "\(operation) on \(kind)")
            #expect(refusal?.resource == "x" && refusal?.user == "app" && refusal?.vhost == "/")
        }
    }

    @Test("a broker that names the permission is taken at its word")
    func namedPermission() {
        let refusal = AccessRefusal(
            operation: "queue.declare", brokerReason: "ACCESS_REFUSED - read access to queue 'a.b' in vhost 'v' refused for user 'u'")
        #expect(refusal?.permission == .read)
        #expect(refusal?.text == "user 'u' has no read permission on queue 'a.b' in vhost 'v'")
    }

    @Test("other refusals are not misread")
    func notUnderstood() {
        #expect(AccessRefusal(operation: "basic.publish", brokerReason: "ACCESS_REFUSED - operation not permitted") == nil)
        #expect(AccessRefusal(operation: "basic.publish", brokerReason: "access to topic 't' refused") == nil)
    }
}
