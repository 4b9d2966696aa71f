import Testing

import ProcessRunner
import Drain

@Suite("The work command's argument substitution and the log's item labels, as pure logic")
struct DrainLogicTests {
    @Test("{} in any argument becomes the item; a NUL byte cannot be an argument")
    func substitution() {
        let command = WorkCommand(arguments: ["convert", "{}", "out/{}.png", "{x}"])
        #expect(command.argv(for: Array("a b".utf8)) == ["convert", "a b", "out/a b.png", "{x}"].map { Array($0.utf8) })
        #expect(command.argv(for: [0x61, 0x00]) == nil)
        #expect(WorkCommand(arguments: ["cat"]).argv(for: [0x00]) == [Array("cat".utf8)])
    }

    @Test("log labels shorten long items and show newlines")
    func labels() {
        #expect(ItemLabel.short(Array("a\nb".utf8)) == "a⏎b")
        #expect(ItemLabel.short([UInt8](repeating: 0x61, count: 1000)).hasSuffix("…(1000 bytes)"))
    }
}
