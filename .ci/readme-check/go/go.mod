module verifysnippet

go 1.19
