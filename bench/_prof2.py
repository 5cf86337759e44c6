import asyncio, time, tempfile, cProfile, pstats
from pathlib import Path
from routing.campaigns import CampaignStore, CampaignCreate, Row, body_of, Campaigns
from routing.router import Dispatcher
from routing.table import RoutingTable

class FakeHost:
    class _M:
        async def _call(self, items):
            return [(True, sj.encode()) for sj, bh, cols in items]
        def remote(self, items):
            return self._call(items)
    create_many = _M()

async def main():
    d = Path(tempfile.mkdtemp())
    store = CampaignStore(d / "c.db")
    c = CampaignCreate(id="x", name="x", template={"requestType": "dunningNotice"})
    store.create("x", c)
    rows = [Row(key=f"r{i}", partyId=f"CUST-{i%997+4:06d}", characteristics={"billingAccountId": f"BA-{i%997+4:06d}"}) for i in range(20000)]
    for i in range(0, 20000, 5000): store.add_rows("x", rows[i:i+5000])
    camp = Campaigns.__ray_actor_class__.__new__(Campaigns.__ray_actor_class__)
    camp.store = store
    camp.dispatcher = Dispatcher(RoutingTable.load(None), [FakeHost(), FakeHost()])
    cg = store.get("x")
    t = time.perf_counter()
    pr = cProfile.Profile(); pr.enable()
    after = 0
    while True:
        batch = store.next_rows("x", after, 500)
        if not batch: break
        answers = await camp._send(cg, batch)
        camp._record("x", batch, answers)
        after = batch[-1][0]
    pr.disable()
    dt = time.perf_counter() - t
    print(f"20000 rows: {dt:.2f}s = {dt/20000*1e6:.0f} us/row (profiled)")
    pstats.Stats(pr).sort_stats("cumtime").print_stats(30)
asyncio.run(main())
