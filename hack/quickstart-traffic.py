"""Requests to the quick start's Gateway, from the host, over a new
connection each (so that every one is routed anew), bounded in number or
in rate.

  count URL N   send N requests, 8 at a time, and print the share of the
                answers each version gave, and how many failed
  load URL      send about 50 requests a second until killed
  scraped PROM  exit 0 if the Prometheus at PROM has a request rate of
                the canary's pods, as the analysis will ask it, else 1
"""
import collections
import concurrent.futures
import json
import math
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def get(url):
    """The version that answered, and whether it answered 200."""
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.read().decode().strip(), True
    except urllib.error.HTTPError as err:
        return err.read().decode().strip(), False
    except OSError:
        return "no answer", False


def count(url, n):
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: get(url), range(n)))
    versions = collections.Counter(version for version, _ in answers)
    failed = sum(1 for _, ok in answers if not ok)
    split = ", ".join(f"{v} {100 * c / n:.1f}%" for v, c in sorted(versions.items()))
    print(f"  {n} requests through the Gateway: {split}; {failed} failed", flush=True)


def load(url):
    while True:
        get(url)
        time.sleep(0.02)


def scraped(prometheus):
    query = 'sum(rate(http_requests_total{pod=~"web-canary-.*"}[10s]))'
    url = prometheus + "/api/v1/query?" + urllib.parse.urlencode({"query": query})
    with urllib.request.urlopen(url, timeout=5) as resp:
        result = json.load(resp)["data"]["result"]
    rate = float(result[0]["value"][1]) if result else math.nan
    sys.exit(0 if rate > 0 else 1)


if __name__ == "__main__":
    if sys.argv[1] == "count":
        count(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "scraped":
        scraped(sys.argv[2])
    else:
        load(sys.argv[2])
