#!/usr/bin/env python3
"""A sample contestant job, written the way contestants write them: Python and boto3.

It runs inside the sandbox, where the gateway is the only door. It reads the demo CT scans
through the gateway's S3-compatible API, finds nodule candidates with a very simple detector,
scores itself on the train split, and puts its predictions for the test split into
`outbox/submissions/` (the leaderboard: scored inside the cage, only the score comes back) and
aggregate metrics into `outbox/metrics/` (the gateway checks, canonicalizes, charges and logs
them before anything leaves). Standard library and boto3 only.

    AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... CAGE_S3_ENDPOINT=http://127.0.0.1:8081 \\
        python3 examples/nodule_job_boto3.py
or, next to a local `npm start`, with nothing set (reads ./.cage/bootstrap.json).
"""
import json
import math
import os
import sys
from array import array

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

boot = None
if not os.environ.get("AWS_ACCESS_KEY_ID"):
    with open(os.environ.get("CAGE_BOOTSTRAP", ".cage/bootstrap.json")) as f:
        boot = json.load(f)
endpoint = os.environ.get("CAGE_S3_ENDPOINT") or boot["s3Endpoint"]
dataset = os.environ.get("CAGE_DATASET", "lung-demo")
s3 = boto3.client(
    "s3",
    endpoint_url=endpoint,
    region_name=os.environ.get("AWS_DEFAULT_REGION") or (boot or {}).get("s3Region", "us-east-1"),
    aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID") or boot["demoJob"]["accessKeyId"],
    aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY") or boot["demoJob"]["secretAccessKey"],
    config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
)


def keys(prefix):
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=dataset, Prefix=prefix):
        for o in page.get("Contents", []):
            yield o["Key"]


def read(key):
    return s3.get_object(Bucket=dataset, Key=key)["Body"].read()


def parse_header(text):
    h = dict(line.split(" = ", 1) for line in text.splitlines() if " = " in line)
    nums = lambda k: [float(v) for v in h[k].split()]
    return [int(v) for v in nums("DimSize")], nums("ElementSpacing"), nums("Offset"), h["ElementDataFile"].strip()


def detect(vox, dim, spacing, offset):
    """Bright blobs surrounded by lung: above -300 HU with lung ~15 mm away in all six directions."""
    nx, ny, nz = dim
    dx, dy, dz = (max(1, round(15 / s)) for s in spacing)
    sy, sz = nx, nx * ny
    cells = {}
    for i, v in enumerate(vox):
        if v <= -300:
            continue
        x, y, z = i % nx, (i // nx) % ny, i // sz
        if not (dx <= x < nx - dx and dy <= y < ny - dy and dz <= z < nz - dz):
            continue
        if not all(vox[j] < -600 for j in (i - dx, i + dx, i - dy * sy, i + dy * sy, i - dz * sz, i + dz * sz)):
            continue
        c = cells.setdefault((x // 8, y // 8, z // 8), [0, 0, 0, 0])
        c[0] += x
        c[1] += y
        c[2] += z
        c[3] += 1
    return [
        (offset[0] + c[0] / c[3] * spacing[0], offset[1] + c[1] / c[3] * spacing[1], offset[2] + c[2] / c[3] * spacing[2], min(0.99, c[3] / 200))
        for c in cells.values()
        if c[3] >= 8
    ]


def scan(split, uid):
    dim, spacing, offset, data_file = parse_header(read(f"{split}/{uid}.mhd").decode())
    vox = array("h")
    vox.frombytes(read(f"{split}/{data_file}"))
    if sys.byteorder != "little":
        vox.byteswap()
    return detect(vox, dim, spacing, offset)


def uids(split):
    return sorted({k[len(split) + 1 : -4] for k in keys(f"{split}/") if k.endswith(".mhd")})


# Score on the train split: a nodule is found if a candidate lies within its radius.
annotations = [line.split(",") for line in read("train/annotations.csv").decode().strip().splitlines()[1:]]
found = false_positives = 0
train = uids("train")
for uid in train:
    candidates = scan("train", uid)
    truth = [(float(x), float(y), float(z), float(d) / 2) for u, x, y, z, d in annotations if u == uid]
    near = lambda c, t: math.dist(c[:3], t[:3]) <= max(t[3], 3)
    found += sum(1 for t in truth if any(near(c, t) for c in candidates))
    false_positives += sum(1 for c in candidates if not any(near(c, t) for t in truth))
sensitivity = found / len(annotations) if annotations else 0
print(f"train: {found}/{len(annotations)} nodules found, {false_positives} false positives over {len(train)} scans")

# Predict on the test split.
rows = ["seriesuid,coordX,coordY,coordZ,probability"]
for uid in uids("test"):
    rows += [f"{uid},{x:.3f},{y:.3f},{z:.3f},{p:.4f}" for x, y, z, p in scan("test", uid)]
precision = found / (found + false_positives) if found + false_positives else 0
metrics = json.dumps({"n": len(annotations), "metrics": {"sensitivity": sensitivity, "precision": precision}})

failed = False
# The predictions go to the leaderboard (outbox/submissions/): scored inside, only the score returns.
for kind, name, body in (("submissions", "test.csv", "\n".join(rows) + "\n"), ("metrics", "train.json", metrics)):
    try:
        r = s3.put_object(Bucket="outbox", Key=f"{kind}/{name}", Body=body.encode())
        h = r["ResponseMetadata"]["HTTPHeaders"]
        score = f", public score {h['x-cage-public-score']}" if "x-cage-public-score" in h else ""
        print(f"egress {kind}: {h['x-cage-egress-status']} receipt {h['x-cage-receipt-id']} ({h['x-cage-bits']} bits{score})")
    except ClientError as e:
        print(f"egress {kind}: refused: {e.response['Error']['Code']}: {e.response['Error']['Message']}")
        failed = True
sys.exit(1 if failed else 0)
