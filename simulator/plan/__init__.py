"""`emberwatch plan`: a Monte Carlo of ignitions and weather over candidate node layouts, run on Dask."""
