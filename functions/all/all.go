// Package all links every function package into a binary, so that their init functions
// register them. A test fails when a package under functions/ is missing here.
package all

import (
	_ "github.com/8949market/market/functions/auth/jwks"
	_ "github.com/8949market/market/functions/platform/info"
	_ "github.com/8949market/market/functions/products/create"
	_ "github.com/8949market/market/functions/products/get"
	_ "github.com/8949market/market/functions/reservations/productcreated"
)
