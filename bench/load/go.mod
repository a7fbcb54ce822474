module portside.bench/load

go 1.19
