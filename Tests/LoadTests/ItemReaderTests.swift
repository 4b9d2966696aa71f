import Foundation
import Testing

import Core
import Load

@Suite("Reading items from files and standard input")
struct ItemReaderTests {
    func items(from text: [UInt8]) throws -> [[UInt8]] {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let writeFD = fds[1]
        let writer = Thread {
            text.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let n = write(writeFD, buffer.baseAddress! + offset, buffer.count - offset)
                    if n <= 0 { break }
                    offset += n
                }
            }
            close(writeFD)
        }
        writer.start()
        var reader = ItemReader(fd: fds[0])
        var result: [[UInt8]] = []
        while let item = try reader.next() { result.append(item) }
        close(fds[0])
        return result
    }

    @Test("each line is one item without its \\n or \\r\\n; empty lines are skipped")
    func lines() throws {
        let got = try items(from: Array("a\r\n\nb c\n\r\n  \nlast".utf8))
        #expect(got.map { String(decoding: $0, as: UTF8.self) } == ["a", "b c", "  ", "last"])
    }

    @Test("items survive chunk boundaries byte for byte, including a 200 kB line and UTF-8")
    func bigAndUnicode() throws {
        let big = [UInt8](repeating: 0x78, count: 200_000)
        let unicode = Array("zażółć gęślą jaźń 🚀".utf8)
        let input = big + [0x0A] + unicode + [0x0A] + Array((0..<5000).map { "item-\($0)\n" }.joined().utf8)
        let got = try items(from: input)
        #expect(got.count == 5002)
        #expect(got[0] == big)
        #expect(got[1] == unicode)
        #expect(got.last == Array("item-4999".utf8))
    }

    @Test("lines around and across the 64 KiB reads, \\r\\n split between two reads, and a line of many reads come back whole")
    func readBoundaries() throws {
        let lengths = [65_535, 65_534, 65_536, 1, 65_537, 3 * 65_536 + 7, 2]
        let lines = lengths.enumerated().map { [UInt8](repeating: UInt8(0x61 + $0.offset), count: $0.element) }
        let input: [UInt8] = lines.flatMap { $0 + [UInt8]([0x0D, 0x0A]) }
        #expect(try items(from: input) == lines)
    }

    @Test("a file that does not exist is a usage error naming it")
    func missingFile() {
        #expect(throws: WorkQueueError.usage("--file /nonexistent/items.txt: No such file or directory; check the path")) {
            _ = try ItemSource.file("/nonexistent/items.txt").makeIterator()
        }
    }

    @Test("--count N yields \"0\" ... \"N-1\"")
    func count() throws {
        var iterator = try ItemSource.count(3).makeIterator()
        var got: [String] = []
        while let item = try iterator.next() { got.append(String(decoding: item, as: UTF8.self)) }
        #expect(got == ["0", "1", "2"])
    }
}
