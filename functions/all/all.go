// Package all links every function package into a binary, so that their init functions
// register them. A test fails when a package under functions/ is missing here.
package all

import (
	_ "github.com/8949market/market/functions/auth/jwks"
	_ "github.com/8949market/market/functions/auth/login"
	_ "github.com/8949market/market/functions/auth/logout"
	_ "github.com/8949market/market/functions/auth/reissue"
	_ "github.com/8949market/market/functions/auth/signup"
	_ "github.com/8949market/market/functions/platform/info"
	_ "github.com/8949market/market/functions/products/create"
	_ "github.com/8949market/market/functions/products/get"
	_ "github.com/8949market/market/functions/reservations/productcreated"
	_ "github.com/8949market/market/functions/users/chatavailability"
	_ "github.com/8949market/market/functions/users/get"
	_ "github.com/8949market/market/functions/users/list"
	_ "github.com/8949market/market/functions/users/me"
	_ "github.com/8949market/market/functions/users/remove"
	_ "github.com/8949market/market/functions/users/update"
	_ "github.com/8949market/market/functions/users/updateme"
)
