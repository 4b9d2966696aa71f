/// A rectangle of the screen that one pane draws over: its width in columns and its rows.
package struct ScreenRegion: Sendable, Equatable {
    package var width: Int
    package var rows: Int

    package init(width: Int, rows: Int) {
        self.width = width
        self.rows = rows
    }

    /// The same columns, `rows` high.
    func with(rows: Int) -> ScreenRegion {
        ScreenRegion(width: width, rows: rows)
    }
}

/// One part of the screen with its own drawer (btop's `Cpu::draw`, htop's `Panel`): it holds
/// what it shows, and draws it over a region as lines, at most the region's width each.
protocol ScreenPane {
    func draw(in region: ScreenRegion) -> [StyledLine]
}
