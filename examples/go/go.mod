module example.com/portside-go-example

go 1.19
