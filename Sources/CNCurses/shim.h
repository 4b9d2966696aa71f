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
/* Why: COLOR_PAIR and the A_* attributes are function-like macros Swift cannot import. */
static inline int wq_color_pair(int n) { return (int)COLOR_PAIR(n); }
static inline int wq_a_bold(void) { return (int)A_BOLD; }
static inline int wq_a_dim(void) { return (int)A_DIM; }
static inline int wq_a_reverse(void) { return (int)A_REVERSE; }
/* Why: attrset may be a macro over wattrset depending on the build. */
static inline void wq_set_attributes(int attributes) { wattrset(stdscr, attributes); }

#endif
