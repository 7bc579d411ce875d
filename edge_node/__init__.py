"""Edge node: the MicroPython firmware and the pure core (`edge_node.core`) everything shares."""
