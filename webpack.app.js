const { NxAppWebpackPlugin } = require('@nx/webpack/app-plugin');
const { join, relative } = require('path');

/**
 * The webpack config shared by every app: one Node bundle of our own code (libs included), with
 * node_modules left external and a generated package.json listing what the bundle requires.
 * An app's webpack.config.js is `module.exports = require('../../webpack.app.js')(__dirname);`.
 */
module.exports = function appWebpackConfig(appDir) {
  return {
    output: { path: join(__dirname, 'dist', relative(__dirname, appDir)) },
    devtool: 'source-map',
    plugins: [
      new NxAppWebpackPlugin({
        target: 'node',
        compiler: 'tsc',
        main: './src/main.ts',
        tsConfig: './tsconfig.app.json',
        optimization: false,
        outputHashing: 'none',
        generatePackageJson: true,
        sourceMap: true,
      }),
    ],
  };
};
