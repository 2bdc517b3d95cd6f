export * from './lib/collector-eureka.config';
