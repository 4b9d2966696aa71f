#ifndef WORK_QUEUE_CNCURSES_SHIM_H
#define WORK_QUEUE_CNCURSES_SHIM_H

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <ncurses.h>

/* Why: stdscr, LINES and COLS are mutable globals Swift 6 rejects; these read them. */
static inline WINDOW *wq_stdscr(void) { return stdscr; }
static inline int wq_lines(void) { return LINES; }
static inline int wq_cols(void) { return COLS; }
/* Why: COLOR_PAIR is a macro. */
static inline int wq_color_pair(int n) { return COLOR_PAIR(n); }

#endif
