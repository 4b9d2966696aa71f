import Core
import Platform
import AMQPClient

extension Processor {
    /// Whether this processor holds work peers must wait for: a consumer of the work queue (it
    /// may hold items), or stopping (it stands on `QUEUE.stopping` until what it holds is settled).
    var holdsWork: Bool { intake.isConsuming || stop.isRequested }

    /// Adds or cancels the pulse consumer on `QUEUE.stopping` as the wall clock's phase says
    /// (`LivenessPulse`), so idle peers see this processor alive however long its item runs.
    func pulseStep() throws {
        guard let connection else { return }
        switch pulse.step(holding: holdsWork, wall: WallClock.now()) {
        case .none:
            return
        case .start:
            do {
                pulse.started(tag: try connection.standAsConsumer(of: topology.stoppingQueue, channel: AMQPConnection.pulseChannel))
            } catch {
                guard error.kind != .connectionLost else { throw error }
                pulse.disable()
                log.always(
                    "cannot pulse on \(topology.stoppingQueue) (\(log.describe(error))); idle processors may take this one for lost with a cluster node after \(Int(intake.lostConsumerWindow.inSeconds)) s without a pulse")
            }
        case .stop(let tag):
            pulse.stopped()
            do {
                try connection.cancel(consumerTag: tag, channel: AMQPConnection.pulseChannel)
            } catch {
                // A refused cancel closed the pulse channel, and the consumer with it.
                guard error.kind != .connectionLost else { throw error }
            }
        }
    }

    /// When the pulse next switches, while this processor holds work.
    func nextPulseSwitch(now: Instant) -> Instant? {
        guard holdsWork, let wait = pulse.untilNextSwitch(wall: WallClock.now()) else { return nil }
        return now + wait + .milliseconds(1)
    }
}
