"""Routing: the routing table, the hash ring, the router actor and the runtime that starts it all."""
