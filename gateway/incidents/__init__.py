"""Fire incidents: node alerts fused into located, confirmed incidents, one notification per fire.

engine.py is pure (events in, transitions out, clock passed in); nodes.py keeps what the gateway
knows of each node (position, faults, last readings); locate.py estimates where a fire is;
records.py turns an incident into the stored `incident` point and back; store.py rebuilds the
engine from the store after a restart; processor.py plugs the engine into the gateway's
EventProcessor seam; command.py is `emberwatch incidents`.
"""
