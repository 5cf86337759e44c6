import asyncio, sys, time, tempfile, subprocess, os
from pathlib import Path
import ray
sys.path.insert(0, "/work/main")
from bench.memory import body, BATCH
from routing.client import RuntimeClient
from routing.config import Settings
from routing.runtime import Runtime
from routing.table import DEFAULT_TABLE

async def main(n, rtype):
    work = Path(tempfile.mkdtemp(prefix="sb-prof-"))
    table_path = work / "routing.toml"
    text = DEFAULT_TABLE.read_text()
    table_path.write_text(text.replace("[requestTypes.inquiry]\n", '[requestTypes.inquiry]\nselfService = "never"\n'))
    settings = Settings(data_dir=work, namespace="prof", hosts=2, demo_customers=1000, dashboard=False,
                        routing_table=table_path, passivate_after=0.05)
    ray.init(num_cpus=2, include_dashboard=False, namespace=settings.namespace, log_to_driver=False)
    runtime = Runtime(settings).start()
    client = RuntimeClient(settings)
    pongs = [await h.ping.remote() for h in client.hosts]
    pids = [p["pid"] for p in pongs] + [ (await client.router.ping.remote())["pid"] if False else 0]
    await client.router.create_many.remote([(body(i), None, "bench") for i in range(200)])
    await asyncio.sleep(2)
    spies = [subprocess.Popen(["/work/main/.venv/bin/py-spy", "record", "-p", str(p), "-d", "12", "-r", "200", "--gil", "-f", "raw", "-o", f"/tmp/prof/gil{i}.txt", "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i, p in enumerate(pids[:2])]
    t = time.perf_counter(); done = 0
    inflight = []
    for first in range(0, n, BATCH):
        await client.router.create_many.remote([(body(i), None, "bench") for i in range(first, min(n, first+BATCH))])
        done += BATCH
    dt = time.perf_counter() - t
    print(f"{n} creates in {dt:.1f}s = {n/dt:.0f}/s")
    for s in spies: s.wait()
    ray.shutdown()
asyncio.run(main(int(sys.argv[1]), "inquiry"))
