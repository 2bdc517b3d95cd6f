#!/bin/bash
# Creates the boilerplate of an Nx project in this workspace (tags, jest, lint, webpack for apps).
# usage: mkproj.sh <kind:lib|app> <dir> <name> <tags comma separated>
set -e
kind=$1; dir=$2; name=$3; tags=$4
mkdir -p $dir/src
depth=$(echo $dir | awk -F/ '{print NF}')
up=$(printf '../%.0s' $(seq 1 $depth))
tagjson=$(echo "$tags" | python3 -c 'import sys,json;print(json.dumps(sys.stdin.read().strip().split(",")))')
if [ "$kind" = app ]; then
cat > $dir/project.json <<J
{
  "name": "$name",
  "\$schema": "${up}node_modules/nx/schemas/project-schema.json",
  "sourceRoot": "$dir/src",
  "projectType": "application",
  "tags": $tagjson,
  "targets": {
    "build": {
      "executor": "nx:run-commands",
      "outputs": ["{workspaceRoot}/dist/$dir"],
      "options": { "command": "webpack-cli build --node-env=production", "cwd": "$dir" }
    },
    "serve": {
      "executor": "nx:run-commands",
      "dependsOn": ["build"],
      "options": { "command": "node dist/$dir/main.js" }
    },
    "lint": { "executor": "@nx/eslint:lint" },
    "test": {
      "executor": "@nx/jest:jest",
      "outputs": ["{workspaceRoot}/coverage/{projectRoot}"],
      "options": { "jestConfig": "$dir/jest.config.ts", "passWithNoTests": false }
    },
    "int-test": {
      "executor": "@nx/jest:jest",
      "options": { "jestConfig": "$dir/jest.int.config.ts", "runInBand": true, "passWithNoTests": false }
    }
  }
}
J
cat > $dir/webpack.config.js <<J
// See webpack.app.js at the workspace root.
module.exports = require('${up}webpack.app.js')(__dirname);
J
cat > $dir/tsconfig.app.json <<J
{
  "extends": "./tsconfig.json",
  "compilerOptions": { "outDir": "${up}dist/out-tsc", "types": ["node"] },
  "include": ["src/**/*.ts"],
  "exclude": ["src/test/**", "src/testing/**", "jest.config.ts", "jest.int.config.ts", "src/**/*.spec.ts", "src/**/*.int-spec.ts", "src/**/*.fault-spec.ts"]
}
J
ref=tsconfig.app.json
else
cat > $dir/project.json <<J
{
  "name": "$name",
  "\$schema": "${up}node_modules/nx/schemas/project-schema.json",
  "sourceRoot": "$dir/src",
  "projectType": "library",
  "tags": $tagjson,
  "targets": {
    "lint": { "executor": "@nx/eslint:lint" },
    "test": {
      "executor": "@nx/jest:jest",
      "outputs": ["{workspaceRoot}/coverage/{projectRoot}"],
      "options": { "jestConfig": "$dir/jest.config.ts", "passWithNoTests": false }
    }
  }
}
J
cat > $dir/tsconfig.lib.json <<J
{
  "extends": "./tsconfig.json",
  "compilerOptions": { "outDir": "${up}dist/out-tsc", "types": ["node"] },
  "include": ["src/**/*.ts"],
  "exclude": ["src/test/**", "src/testing/**", "jest.config.ts", "jest.int.config.ts", "src/**/*.spec.ts", "src/**/*.int-spec.ts", "src/**/*.fault-spec.ts"]
}
J
ref=tsconfig.lib.json
fi
cat > $dir/tsconfig.json <<J
{
  "extends": "${up}tsconfig.base.json",
  "files": [],
  "include": [],
  "references": [{ "path": "./$ref" }, { "path": "./tsconfig.spec.json" }]
}
J
cat > $dir/tsconfig.spec.json <<J
{
  "extends": "./tsconfig.json",
  "compilerOptions": { "isolatedModules": true, "outDir": "${up}dist/out-tsc", "types": ["jest", "node"] },
  "include": ["jest.config.ts", "jest.int.config.ts", "src/**/*.ts"]
}
J
cat > $dir/jest.config.ts <<J
export default {
  displayName: '$name',
  preset: '${up}jest.preset.js',
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  coverageDirectory: '${up}coverage/$dir',
};
J
[ "$kind" = app ] && cat > $dir/jest.int.config.ts <<J
// Integration specs: real peers on loopback (bash scripts/peers.sh up).
export default {
  displayName: '$name:int',
  preset: '${up}jest.preset.js',
  testMatch: ['<rootDir>/src/**/*.int-spec.ts'],
};
J
cat > $dir/eslint.config.mjs <<J
import baseConfig from '${up}eslint.config.mjs';

export default [...baseConfig];
J
[ -f $dir/src/index.ts ] || { [ "$kind" = lib ] && echo "export {};" > $dir/src/index.ts; }
true
