"""Board entry point: `emberwatch firmware deploy` copies this file to the board's root as main.py."""

from edge_node import board

board.run()
