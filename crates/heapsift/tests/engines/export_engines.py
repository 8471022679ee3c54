"""heapsift export, queried by real engines.

Exports ../shared/fixtures/rails-small/{1,2,3}.dump.gz to a folder, then:
- DuckDB: per-dump counts and steady groups by site and by class equal
  `heapsift trend --format json`, and per-site bytes equal
  `heapsift read 3.dump.gz all --format json`; the dump ids are BLAKE3's;
  --objects row counts equal the dump's objects;
- Spark (local mode) reads the same partitioned folder and finds the same
  steady groups.

Run by scripts/test in target/export-venv (duckdb==2.0.1, pyspark==3.5.9,
blake3); HEAPSIFT_BIN names the binary (default target/debug/heapsift).
"""

import gzip
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import blake3
import duckdb

ROOT = Path(__file__).resolve().parents[4]
FIXTURES = ROOT.parent / "shared" / "fixtures" / "rails-small"
BIN = os.environ.get("HEAPSIFT_BIN", str(ROOT / "target" / "debug" / "heapsift"))
DUMPS = [str(FIXTURES / f"{n}.dump.gz") for n in (1, 2, 3)]


def heapsift(*args):
    done = subprocess.run([BIN, *args], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"heapsift {' '.join(args)} failed ({done.returncode}): {done.stderr}")
    return done.stdout


def fail(message):
    sys.exit(f"export_engines: {message}")


def check(ok, message):
    if not ok:
        fail(message)


# SQL shared by both engines: each group's counts in the three dumps
# (missing: 0), in the order the dumps were named.
GROUP_COLUMN = {
    "location": "case when file is null then null else file || ':' || coalesce(cast(line as varchar), '') end",
    "class": "class_name",
}


def series_sql(sites, dumps, by):
    group = GROUP_COLUMN[by]
    return f"""
        with per_dump as (
            select d.name, s.type, {group} as grp, sum(s.objects) as objects, sum(s.bytes) as bytes
            from {sites} s join {dumps} d using (dump_id)
            group by all
        )
        select type, grp, name, objects, bytes from per_dump
    """


def series_of(rows, names):
    """{(type, group): ([counts], [bytes])} in the order of `names`."""
    out = {}
    for kind, group, name, objects, bytes_ in rows:
        counts, sizes = out.setdefault((kind, group), ([0] * len(names), [0] * len(names)))
        i = names.index(name)
        counts[i] += int(objects)
        sizes[i] += int(bytes_)
    return out


def steady(series):
    return {
        key
        for key, (counts, _) in series.items()
        if all(b > a for a, b in zip(counts, counts[1:]))
    }


def trend(by):
    report = json.loads(heapsift("trend", *DUMPS, "--by", by, "--top", "1000000", "--format", "json"))
    group = "location" if by == "location" else "class_name"
    rows = {(r["type"], r[group]): (r["counts"], r["bytes"]) for r in report["rows"]}
    check(len(rows) == report["groups"], f"trend --by {by}: expected every group in the rows")
    return report, rows


def duckdb_checks(out):
    con = duckdb.connect()
    hive = "hive_partitioning=true, hive_types={'dyno': 'VARCHAR', 'date': 'DATE'}"
    for table in ("dumps", "sites", "retainers"):
        con.execute(f"create view {table} as select * from read_parquet('{out}/{table}/**/*.parquet', {hive})")
    ids = dict(con.execute("select name, dump_id from dumps").fetchall())
    for dump in DUMPS:
        expected = blake3.blake3(gzip.decompress(Path(dump).read_bytes())).hexdigest()[:16]
        check(ids.get(dump) == expected, f"{dump}: dump_id {ids.get(dump)}, expected {expected}")
    nulls = con.execute("select count(*) from dumps where dyno is null and date is null").fetchone()[0]
    check(nulls == 3, f"the default partitions read as NULL in DuckDB (got {nulls} of 3)")
    for by in ("location", "class"):
        report, expected = trend(by)
        got = series_of(con.execute(series_sql("sites", "dumps", by)).fetchall(), DUMPS)
        check(got == expected, f"DuckDB counts by {by} differ from trend's ({len(got)} vs {len(expected)} groups)")
        check(len(steady(got)) == report["steady_groups"], f"DuckDB steady groups by {by}")
    read_all = json.loads(heapsift("read", DUMPS[2], "all", "--format", "json"))
    by_memory = {row["location"]: row["value"] for row in read_all["allocated_by_memory"]["rows"]}
    sql_bytes = dict(
        con.execute(
            f"""select s.file || ':' || coalesce(cast(s.line as varchar), ''), sum(s.bytes)
                from sites s join dumps d using (dump_id)
                where d.name = '{DUMPS[2]}' and s.file is not null group by all"""
        ).fetchall()
    )
    for location, value in by_memory.items():
        check(int(sql_bytes.get(location, -1)) == value, f"{location}: {sql_bytes.get(location)} bytes in SQL, read says {value}")
    check(read_all["allocated_by_memory"]["total"] == sum(int(v) for v in sql_bytes.values()), "read all's total bytes")
    con.close()
    print(f"export_engines: DuckDB {duckdb.__version__}: dump ids, trend by site and class, read all: ok")


def objects_checks(out):
    heapsift("export", DUMPS[2], "--objects", "--to", out)
    con = duckdb.connect()
    objects = con.execute(f"select count(*) from read_parquet('{out}/objects/**/*.parquet')").fetchone()[0]
    total = con.execute(f"select objects from read_parquet('{out}/dumps/**/*.parquet')").fetchone()[0]
    check(objects == total, f"objects has {objects} rows, the dump {total} objects")
    references = con.execute(f"select count(*) from read_parquet('{out}/references/**/*.parquet')").fetchone()[0]
    records = [json.loads(line) for line in gzip.decompress(Path(DUMPS[2]).read_bytes()).splitlines() if line]
    listed = sum(len(r.get("references", [])) for r in records if "address" in r)
    check(references == listed, f"references has {references} rows, the dump lists {listed}")
    kinds = dict(con.execute(f"select name, type from parquet_schema('{out}/objects/**/*.parquet')").fetchall())
    check(kinds.get("address") == "INT64", f"address is {kinds.get('address')}")
    con.close()
    print(f"export_engines: --objects: {objects} objects, {references} references: ok")


def readme_sql(scratch):
    """The README's DuckDB queries ("When one machine is not enough"), run
    as written from the folder that holds `tables/`: every statement runs,
    and the one naming rails-small/3's id gives read's top sites."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## When one machine is not enough") : readme.index("## Performance")]
    blocks = [block.split("```", 1)[0] for block in section.split("```sql\n")[1:]]
    check(len(blocks) >= 2, "the README's DuckDB blocks")
    heapsift("export", DUMPS[2], "--objects", "--to", os.path.join(scratch, "tables"))
    here = os.getcwd()
    os.chdir(scratch)
    try:
        con = duckdb.connect()
        statements = [s.strip() for block in blocks for s in block.split(";\n") if s.strip()]
        results = {}
        for statement in statements:
            try:
                results[statement] = con.execute(statement).fetchall()
            except duckdb.Error as error:
                fail(f"README SQL fails in DuckDB: {error}\n{statement}")
        con.close()
    finally:
        os.chdir(here)
    read_all = json.loads(heapsift("read", DUMPS[2], "all", "--format", "json"))
    expected = {r["location"]: r["value"] for r in read_all["allocated_by_memory"]["rows"]}
    top = next(rows for statement, rows in results.items() if "adccd4f9ad59ffa1" in statement)
    check(len(top) == min(20, len(expected)), f"README's read query gave {len(top)} rows")
    for site, value in top:
        check(expected.get(site) == int(value), f"README's read query: {site} {value}, read says {expected.get(site)}")
    print(f"export_engines: README: {len(statements)} DuckDB statements run: ok")


def spark_checks(out):
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[1]").appName("heapsift-export-test")
        .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC").config("spark.sql.shuffle.partitions", "1")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        spark.read.parquet(f"{out}/dumps").createOrReplaceTempView("dumps")
        spark.read.parquet(f"{out}/sites").createOrReplaceTempView("sites")
        nulls = spark.sql("select count(*) from dumps where dyno is null and date is null").collect()[0][0]
        check(nulls == 3, f"Spark reads the default partitions as NULL (got {nulls} of 3)")
        for by in ("location", "class"):
            report, expected = trend(by)
            sql = series_sql("sites", "dumps", by).replace("group by all", "group by d.name, s.type, grp")
            sql = sql.replace("cast(line as varchar)", "cast(line as string)")
            rows = [tuple(r) for r in spark.sql(sql).collect()]
            got = series_of(rows, DUMPS)
            check(steady(got) == steady(expected), f"Spark steady groups by {by}")
            check(len(steady(got)) == report["steady_groups"], f"Spark steady group count by {by}")
    finally:
        spark.stop()
    print("export_engines: Spark: steady groups by site and class: ok")


def main():
    with tempfile.TemporaryDirectory(prefix="heapsift-export-engines-") as scratch:
        out = os.path.join(scratch, "tables")
        heapsift("export", *DUMPS, "--to", out)
        duckdb_checks(out)
        if os.environ.get("HEAPSIFT_SKIP_SPARK") != "1":
            spark_checks(out)
        objects_checks(os.path.join(scratch, "objects"))
        readme_sql(scratch)


if __name__ == "__main__":
    main()
