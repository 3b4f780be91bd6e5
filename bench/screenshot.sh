#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Render the display as an SVG for the README: nctop --demo in a private tmux (120x34,
# 256 colours), captured with its colours (capture-pane -e) and turned into SVG text.
# Usage: bench/screenshot.sh [OUT.svg] (default docs/nctop.svg).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
OUT=${1:-docs/nctop.svg}
SOCK=nctop-shot$$
trap 'tmux -L "$SOCK" kill-server 2>/dev/null' EXIT
tmux -L "$SOCK" -f /dev/null new-session -d -x 120 -y 34 \
    "env TERM=tmux-256color HOME=/nonexistent $BUILD/nctop --demo"
# Wait (bounded) until the rates and a few seconds of history are there.
for _ in $(seq 1 300); do
    tmux -L "$SOCK" capture-pane -p | grep -q 'ITL p50' && break
    sleep 0.05
done
sleep 4
tmux -L "$SOCK" send-keys j j j Enter
sleep 0.3
tmux -L "$SOCK" capture-pane -e -p | /usr/bin/python3 -c '
import html, re, sys
# xterm 256-colour palette: 16 base colours, a 6x6x6 cube, 24 greys.
base = ["#000000", "#cd0000", "#00cd00", "#cdcd00", "#0000ee", "#cd00cd", "#00cdcd", "#e5e5e5",
        "#7f7f7f", "#ff0000", "#00ff00", "#ffff00", "#5c5cff", "#ff00ff", "#00ffff", "#ffffff"]
def colour(n):
    if n < 16:
        return base[n]
    if n < 232:
        n -= 16
        lv = [0, 95, 135, 175, 215, 255]
        return "#%02x%02x%02x" % (lv[n // 36], lv[n // 6 % 6], lv[n % 6])
    g = 8 + (n - 232) * 10
    return "#%02x%02x%02x" % (g, g, g)
FG, BG = "#d0d0d0", "#1c1c1c"
CW, LH = 8.4, 17
lines = sys.stdin.read().split("\n")[:34]
out = []
for y, line in enumerate(lines):
    fg = bg = None
    bold = rev = False
    x = 0
    for tok in re.split(r"(\x1b\[[0-9;]*m)", line):
        if tok.startswith("\x1b["):
            codes = [int(c) if c else 0 for c in tok[2:-1].split(";")]
            i = 0
            while i < len(codes):
                c = codes[i]
                if c == 0:
                    fg = bg = None; bold = rev = False
                elif c == 1:
                    bold = True
                elif c == 7:
                    rev = True
                elif c == 22:
                    bold = False
                elif c == 27:
                    rev = False
                elif 30 <= c <= 37:
                    fg = colour(c - 30)
                elif c == 39:
                    fg = None
                elif 40 <= c <= 47:
                    bg = colour(c - 40)
                elif c == 49:
                    bg = None
                elif c in (38, 48) and i + 2 < len(codes) and codes[i + 1] == 5:
                    if c == 38:
                        fg = colour(codes[i + 2])
                    else:
                        bg = colour(codes[i + 2])
                    i += 2
                i += 1
            continue
        if not tok:
            continue
        f, b = fg or FG, bg
        if rev:
            f, b = (bg or BG), (fg or FG)
        if b:
            out.append("<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>"
                       % (x * CW, y * LH + 4, len(tok) * CW, LH, b))
        out.append("<text x=\"%.1f\" y=\"%d\" fill=\"%s\"%s>%s</text>"
                   % (x * CW, y * LH + 17, f, " font-weight=\"bold\"" if bold else "",
                      html.escape(tok).replace(" ", "&#160;")))
        x += len(tok)
w, h = 120 * CW, len(lines) * LH + 8
print("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
      "font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\" font-size=\"14\" "
      "xml:space=\"preserve\">" % (w, h))
print("<rect width=\"100%\" height=\"100%\" fill=\"" + BG + "\"/>")
print("\n".join(out))
print("</svg>")
' >"$OUT"
echo "wrote $OUT"
