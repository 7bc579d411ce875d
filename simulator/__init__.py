"""A forest of virtual Emberwatch nodes on a PC.

The world (terrain, weather, fire spread, smoke plume) and the sensors are
vectorized numpy; each node thinks with the real `edge_node.core` pipeline
(reference engine) or with a numpy replica of its integer arithmetic (fleet
engine, identical alerts, for scale). Entry point: `simulator.scenario` (settings in `simulator.scenario_config`).
"""
