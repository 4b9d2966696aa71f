internal import CRabbitMQ

#if canImport(Glibc)
import Glibc
#endif
import Core

extension AMQPConnection {
    /// Publishes one persistent, mandatory message without properties on the publish channel,
    /// like `publish`, but queues its frames: they are written together with the next queued
    /// ones once `queuedPublishLimit` bytes are waiting, or before this connection next sends
    /// or reads anything (waiting for confirms, another publish, an RPC, close). One write then
    /// carries hundreds of publishes where rabbitmq-c makes a `send` per frame (three per
    /// message). A write that fails is a lost connection, thrown by the call that writes.
    /// Over TLS the frames must pass through rabbitmq-c's TLS socket: it publishes at once.
    package func publishQueued(routingKey: String, body: UnsafeRawBufferPointer, messageID: String? = nil) throws(WorkQueueError) {
        guard !settings.useTLS else {
            return try publish(routingKey: routingKey, body: body, properties: MessageProperties(messageID: messageID))
        }
        guard let state else {
            throw WorkQueueError(.connectionLost, "basic.publish: connection to \(endpoint) is closed")
        }
        outgoing.append(
            channel: Self.publishChannel, exchange: "", routingKey: routingKey, mandatory: true, persistent: true,
            body: body, frameMax: Int(amqp_get_frame_max(state)), messageID: messageID)
        if confirms[Self.publishChannel] != nil { _ = confirms[Self.publishChannel]!.recordPublish() }
        if outgoing.unwritten >= Self.queuedPublishLimit { try flushQueuedPublishes(state) }
    }

    /// Bytes of queued publishes that are written without waiting for the next call.
    package static let queuedPublishLimit = 128 << 10

    /// Writes the queued publishes now (the caller is about to wait for something else).
    package func writeQueuedPublishes() throws(WorkQueueError) {
        guard let state, !outgoing.isEmpty else { return }
        try flushQueuedPublishes(state)
    }

    /// Writes the queued publishes; a failed write abandons the connection (lost).
    func flushQueuedPublishes(_ state: amqp_connection_state_t) throws(WorkQueueError) {
        guard let failure = writeOutgoing(state) else { return }
        outgoing.discard()
        let error = WorkQueueError(.connectionLost, "basic.publish: connection to \(endpoint) lost (\(String(cString: strerror(failure))))")
        abandon()
        throw error
    }

    /// Writes every queued byte to the socket; returns the errno of a failed write, else nil.
    /// rabbitmq-c's socket does not block: when the kernel's buffer is full (a large item, a slow
    /// broker, a broker that blocks publishers under a resource alarm and stops reading) the write
    /// waits until it can go on, without a limit, as rabbitmq-c's own send does: an alarm may last
    /// long, and the loader waits it out. A network gone silent ends the wait when the kernel
    /// gives up retransmitting (ETIMEDOUT). Nothing is read meanwhile: rabbitmq-c could send a
    /// heartbeat into the middle of a frame.
    func writeOutgoing(_ state: amqp_connection_state_t) -> Int32? {
        let fd = amqp_get_sockfd(state)
        guard fd >= 0 else { return EBADF }
        while !outgoing.isEmpty {
            let written = outgoing.withUnwrittenBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                let failure = errno
                if failure == EINTR { continue }
                guard failure == EAGAIN || failure == EWOULDBLOCK else { return failure }
                var writable = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                if poll(&writable, 1, -1) < 0 && errno != EINTR { return errno }
                continue
            }
            outgoing.consume(written)
        }
        return nil
    }
}
