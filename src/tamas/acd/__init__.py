"""The ACD: queues, agents, routing strategies, callbacks (a pure core: handle(event, now))."""
