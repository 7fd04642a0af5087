"""Bulk updates over a Dask DataFrame: each partition is answered in process by its worker.

    import dask.dataframe as dd, credence, credence.dask
    net = credence.Network.read("networks/alarm.bif")
    cases = dd.read_csv("cases-*.csv", dtype=str)
    posteriors = credence.dask.update(cases, net, targets=["HYPOVOLEMIA"])
    posteriors.to_parquet("posteriors/")

The network travels to the workers pickled (as its BIF text); a worker process parses and
compiles it once, however many partitions it answers. Rows keep their partition and order.
"""

from __future__ import annotations

from ._inprocess import Network

__all__ = ["update"]


def _update_partition(frame, network: Network, options: dict):
    return network.update(frame, **options)


def update(ddf, network: Network, **options):
    """``network.update`` on every partition of ``ddf``; the same keyword arguments (targets,
    shape, engine, threads, seed, samples). Returns a lazy Dask DataFrame."""
    # The output's columns and dtypes, from the same code on an empty frame of the same columns.
    meta = network.update(ddf._meta, **options)
    return ddf.map_partitions(_update_partition, network, options, meta=meta)
