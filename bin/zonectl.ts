console.log("hello from zonectl", process.argv.slice(2))
