// See webpack.app.js at the workspace root.
module.exports = require('../../webpack.app.js')(__dirname);
